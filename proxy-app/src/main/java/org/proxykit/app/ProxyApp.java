package org.proxykit.app;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.proxykit.api.Forward;
import org.proxykit.api.ForwardingHandler;
import org.proxykit.api.HostAndPort;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.exact.ExactProxy;
import org.proxykit.protocol.AttributeHeaders;
import org.proxykit.protocol.HeaderCodecs;
import org.proxykit.protocol.ProxyHeaders;
import org.proxykit.protocol.RequestSigner;
import org.proxykit.protocol.SigningKey;

/**
 * A reverse proxy to a base URL that tells the receiving side what the original request was:
 * the Java form of WSGIProxy's {@code WSGIProxyApp}. For {@code href}
 * {@code http(s)://host[:port]/path?query}, a request is sent to that host with Host set to
 * the href's authority, path = href path + the request's pathInfo, and the href's query
 * appended to the request's query with {@code &}. It adds (replacing what a client sent):
 * <ul>
 *   <li>{@code X-Forwarded-Server} (the original Host), {@code -Scheme}, {@code -Script-Name},
 *       {@code X-Forwarded-For} (the client appended to an existing chain),
 *       {@code X-WSGIProxy-Version: 0.1}, and {@code X-Traversal-Path} /
 *       {@code X-Traversal-Query-String} saying what the href added;</li>
 *   <li>by default the de-facto standard {@code X-Forwarded-Proto/-Host/-Port/-Prefix} and an
 *       RFC 7239 {@code Forwarded} element, for backends that are not proxykit;</li>
 *   <li>one {@code X-WSGIProxy-<Kind>-<n>} header per chosen attribute (client-sent
 *       {@code X-WSGIProxy-*} headers are removed first);</li>
 *   <li>then, with a {@link SigningKey}, an RFC 9421 signature over all of it.</li>
 * </ul>
 * Bodies stream both ways through an {@link ExactProxy}. With {@code rewriteRedirects},
 * Location headers and Set-Cookie Path/Domain that point into the href are turned back into
 * the client's view of the URL. Thread-safe; {@link #close()} closes the ExactProxy if this
 * app made it.
 *
 * @since 0.1
 */
public final class ProxyApp implements ForwardingHandler, Closeable {
  private final ProxyRequest href;
  private final String hrefPath;
  private final String hrefQuery;
  private final ExactProxy exact;
  private final boolean ownsExact;
  private final @Nullable RequestSigner signer;
  private final Map<String, List<String>> keysByKind;
  private final HeaderCodecs codecs;
  private final boolean standardHeaders;
  private final boolean forwardedHeader;
  private final boolean rewriteRedirects;

  private ProxyApp(Builder builder, ExactProxy exact, boolean ownsExact) {
    this.href = builder.href;
    String path = builder.href.pathInfo();
    this.hrefPath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    this.hrefQuery = builder.href.queryString();
    this.exact = exact;
    this.ownsExact = ownsExact;
    this.signer = builder.signingKey == null ? null : new RequestSigner(builder.signingKey);
    this.keysByKind = new LinkedHashMap<>(builder.keysByKind);
    this.codecs = builder.codecs != null ? builder.codecs : HeaderCodecs.load();
    this.standardHeaders = builder.standardHeaders;
    this.forwardedHeader = builder.forwardedHeader;
    this.rewriteRedirects = builder.rewriteRedirects;
    for (String kind : keysByKind.keySet()) {
      if (codecs.get(kind) == null) {
        throw new IllegalArgumentException("keys." + kind + ": no attribute kind '" + kind + "' (known: "
            + String.join(", ", codecs.kinds()) + ")");
      }
    }
  }

  /**
   * Returns a builder for an app that proxies to {@code href}.
   *
   * @throws IllegalArgumentException if {@code href} is not an absolute http(s) URL
   */
  public static Builder builder(String href) {
    return new Builder(ProxyRequest.blank(href));
  }

  @Override
  public ProxyResponse handle(ProxyRequest request) throws IOException {
    return forward(request).send();
  }

  @Override
  public Forward forward(ProxyRequest request) throws IOException {
    String originalHost = request.host();
    HttpHeaders.Builder headers = request.headers().toBuilder();
    for (String name : request.headers().names()) {
      // whatever a client sent as a proxy header is not a fact: only the chains are kept, below
      if (ProxyHeaders.isProxyHeader(name) || name.equalsIgnoreCase(ProxyHeaders.SIGNATURE)
          || name.equalsIgnoreCase(ProxyHeaders.SIGNATURE_INPUT)) {
        headers.remove(name);
      }
    }
    headers.set(ProxyHeaders.FORWARDED_SERVER, originalHost);
    headers.set(ProxyHeaders.FORWARDED_SCHEME, request.scheme());
    headers.set(ProxyHeaders.FORWARDED_SCRIPT_NAME, request.scriptName());
    String chain = String.join(", ", request.headers().all(ProxyHeaders.FORWARDED_FOR));
    if (request.remoteAddr() != null) {
      chain = chain.isEmpty() ? request.remoteAddr() : chain + ", " + request.remoteAddr();
    }
    if (!chain.isEmpty()) {
      headers.set(ProxyHeaders.FORWARDED_FOR, chain);
    }
    if (standardHeaders) {
      headers.set(ProxyHeaders.FORWARDED_PROTO, request.scheme());
      headers.set(ProxyHeaders.FORWARDED_HOST, originalHost);
      int defaultPort = request.scheme().equals("https") ? 443 : 80;
      int originalPort;
      try {
        originalPort = HostAndPort.parse(originalHost, defaultPort).port();
      } catch (IllegalArgumentException e) {
        originalPort = request.serverPort();
      }
      headers.set(ProxyHeaders.FORWARDED_PORT, String.valueOf(originalPort));
      if (!request.scriptName().isEmpty()) {
        headers.set(ProxyHeaders.FORWARDED_PREFIX, request.scriptName());
      }
    }
    if (forwardedHeader) {
      String earlier = String.join(", ", request.headers().all(ProxyHeaders.FORWARDED));
      String element = Rfc7239.element(request.remoteAddr(), originalHost, request.scheme());
      headers.set(ProxyHeaders.FORWARDED, earlier.isEmpty() ? element : earlier + ", " + element);
    }
    headers.set(ProxyHeaders.VERSION, ProxyHeaders.VERSION_VALUE);
    if (!hrefPath.isEmpty()) {
      headers.set(ProxyHeaders.TRAVERSAL_PATH, hrefPath);
    }
    if (!hrefQuery.isEmpty()) {
      headers.set(ProxyHeaders.TRAVERSAL_QUERY_STRING, hrefQuery);
    }
    AttributeHeaders.encode(request.attributes(), keysByKind, codecs, headers);
    headers.set("Host", Objects.requireNonNull(href.header("Host")));

    String query = request.queryString();
    if (!hrefQuery.isEmpty()) {
      query = query.isEmpty() ? hrefQuery : query + "&" + hrefQuery;
    }
    ProxyRequest outbound = request.toBuilder()
        .scheme(href.scheme())
        .serverName(href.serverName())
        .serverPort(href.serverPort())
        .headers(headers.build())
        .scriptName("")
        .pathInfo(hrefPath + request.pathInfo())
        .queryString(query)
        .build();
    if (signer != null) {
      outbound = signer.sign(outbound);
    }
    Forward forward = exact.forward(outbound);
    return rewriteRedirects ? forward.thenAnswer(response -> rewrite(response, request, originalHost)) : forward;
  }

  /** Turns Location and Set-Cookie Path/Domain that point into the href back into the client's view. */
  private ProxyResponse rewrite(ProxyResponse response, ProxyRequest request, String originalHost) {
    HttpHeaders.Builder headers = HttpHeaders.builder();
    String hrefBase = href.scheme() + "://" + href.header("Host") + hrefPath;
    String clientBase = request.scheme() + "://" + originalHost + request.scriptName();
    String hrefHostName = href.serverName();
    String clientHostName = originalHost.startsWith("[") ? originalHost.substring(0, originalHost.indexOf(']') + 1)
        : originalHost.contains(":") ? originalHost.substring(0, originalHost.indexOf(':')) : originalHost;
    response.headers().forEach((name, value) -> {
      if (name.equalsIgnoreCase("Location") || name.equalsIgnoreCase("Content-Location")) {
        headers.add(name, rewriteLocation(value, hrefBase, clientBase, request.scriptName()));
      } else if (name.equalsIgnoreCase("Set-Cookie")) {
        headers.add(name, rewriteCookie(value, request.scriptName(), hrefHostName, clientHostName));
      } else {
        headers.add(name, value);
      }
    });
    return response.toBuilder().headers(headers.build()).build();
  }

  private String rewriteLocation(String location, String hrefBase, String clientBase, String scriptName) {
    if (startsWithSegment(location.toLowerCase(Locale.ROOT), hrefBase.toLowerCase(Locale.ROOT))) {
      return clientBase + location.substring(hrefBase.length());
    }
    if (location.startsWith("/") && !location.startsWith("//") && startsWithSegment(location, hrefPath)) {
      return scriptName + location.substring(hrefPath.length());
    }
    return location;
  }

  private String rewriteCookie(String cookie, String scriptName, String hrefHostName, String clientHostName) {
    String[] parts = cookie.split(";", -1);
    for (int i = 1; i < parts.length; i++) {
      String part = parts[i].strip();
      int equals = part.indexOf('=');
      String attribute = equals < 0 ? part : part.substring(0, equals).strip();
      String value = equals < 0 ? "" : part.substring(equals + 1).strip();
      if (attribute.equalsIgnoreCase("Path") && startsWithSegment(value, hrefPath)) {
        String path = scriptName + value.substring(hrefPath.length());
        parts[i] = " " + attribute + "=" + (path.isEmpty() ? "/" : path);
      } else if (attribute.equalsIgnoreCase("Domain")
          && value.replaceFirst("^\\.", "").equalsIgnoreCase(hrefHostName)) {
        parts[i] = " " + attribute + "=" + clientHostName;
      }
    }
    return String.join(";", parts);
  }

  private static boolean startsWithSegment(String value, String prefix) {
    if (prefix.isEmpty()) {
      return true;
    }
    return value.startsWith(prefix)
        && (value.length() == prefix.length() || "/?#".indexOf(value.charAt(prefix.length())) >= 0);
  }

  /** Closes the ExactProxy if this app made it. */
  @Override
  public void close() throws IOException {
    if (ownsExact) {
      exact.close();
    }
  }

  @Override
  public String toString() {
    return "ProxyApp(" + href.url() + (signer != null ? ", signed" : "") + (keysByKind.isEmpty() ? "" : ", " + keysByKind)
        + ") -> " + exact;
  }

  /** Configures a {@link ProxyApp}. */
  public static final class Builder {
    private final ProxyRequest href;
    private @Nullable ExactProxy exact;
    private @Nullable SigningKey signingKey;
    private final Map<String, List<String>> keysByKind = new LinkedHashMap<>();
    private @Nullable HeaderCodecs codecs;
    private boolean standardHeaders = true;
    private boolean forwardedHeader = true;
    private boolean rewriteRedirects;

    private Builder(ProxyRequest href) {
      this.href = href;
    }

    /** Sends with {@code exact}, which stays the caller's to close; default: a new {@code ExactProxy.create()}. */
    public Builder exact(ExactProxy exact) {
      this.exact = Objects.requireNonNull(exact, "exact");
      return this;
    }

    /** Signs every request with {@code key}; default: unsigned (trust by address only). */
    public Builder signingKey(SigningKey key) {
      this.signingKey = Objects.requireNonNull(key, "key");
      return this;
    }

    /** Passes the attributes named {@code keys} as {@code kind} ({@code Str}, {@code Unicode}, {@code Json}, {@code Kryo}, ...). */
    public Builder keys(String kind, List<String> keys) {
      keysByKind.computeIfAbsent(kind, k -> new ArrayList<>()).addAll(keys);
      return this;
    }

    /** Sets the attribute kinds to encode with; default: every kind found, with default settings. */
    public Builder codecs(HeaderCodecs codecs) {
      this.codecs = Objects.requireNonNull(codecs, "codecs");
      return this;
    }

    /** Whether to add X-Forwarded-Proto/-Host/-Port/-Prefix; default true. */
    public Builder standardForwardedHeaders(boolean add) {
      this.standardHeaders = add;
      return this;
    }

    /** Whether to add an RFC 7239 Forwarded element; default true. */
    public Builder forwardedHeader(boolean add) {
      this.forwardedHeader = add;
      return this;
    }

    /** Whether to rewrite Location and Set-Cookie Path/Domain into the client's view; default false. */
    public Builder rewriteRedirects(boolean rewrite) {
      this.rewriteRedirects = rewrite;
      return this;
    }

    /**
     * Returns the app.
     *
     * @throws IllegalArgumentException if a kind of keys is unknown
     */
    public ProxyApp build() {
      boolean owns = exact == null;
      ExactProxy proxy = owns ? ExactProxy.create() : exact;
      try {
        return new ProxyApp(this, proxy, owns);
      } catch (RuntimeException e) {
        if (owns) {
          try {
            proxy.close();
          } catch (IOException ignored) {
            // nothing was sent through it
          }
        }
        throw e;
      }
    }
  }
}
