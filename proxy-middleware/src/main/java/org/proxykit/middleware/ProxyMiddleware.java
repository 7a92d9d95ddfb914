package org.proxykit.middleware;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
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
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.HeaderCodec;
import org.proxykit.protocol.AttributeHeaders;
import org.proxykit.protocol.HeaderCodecs;
import org.proxykit.protocol.ProxyHeaders;
import org.proxykit.protocol.RequestVerifier;

/**
 * Wraps a handler on the receiving side of a proxy: checks who sent the proxy headers and,
 * if it trusts them, puts the original request back together. The Java form of WSGIProxy's
 * {@code WSGIProxyMiddleware}.
 *
 * <p><b>Trust.</b> A sender is trusted if its request carries a valid RFC 9421 signature
 * (when a {@link RequestVerifier} is set, an unsigned request is refused with 401 unless
 * {@code requireSignature} is false), or if its address is in the trusted IP ranges (with
 * neither keys nor ranges configured, loopback only). An invalid signature is always 401.
 * An untrusted sender's proxy headers are removed, never applied; if it sends an attribute
 * kind that requires trust (Kryo), the answer is 403.
 *
 * <p><b>What a trusted sender's headers restore.</b> Host from X-WSGIProxy-Host,
 * X-Forwarded-Server, X-Forwarded-Host or Forwarded host (in that order), with serverName
 * and serverPort (X-Forwarded-Port too); the scheme from X-WSGIProxy-Wsgi-Url-Scheme,
 * X-Forwarded-Scheme, X-Forwarded-Proto or Forwarded proto; remoteAddr from X-Forwarded-For
 * (or Forwarded for), walking right to left past trusted proxies as Tomcat's RemoteIpValve
 * does, stopping at an entry that is not an IP address; scriptName from
 * X-Forwarded-Script-Name, X-Script-Name or X-Forwarded-Prefix (it must start with {@code /},
 * else 400); pathInfo without X-Traversal-Path and the query without
 * X-Traversal-Query-String (a mismatch is 400 naming both); the X-WSGIProxy-Script-Name,
 * -Path-Info and -Query-String overrides; and every X-WSGIProxy-&lt;Kind&gt;-&lt;n&gt;
 * attribute. The proxy headers are then removed; the values they replaced stay readable in
 * the attribute {@value #ORIGINAL_ATTRIBUTE}. X-WSGIProxy-Version other than 0.1 is 400.
 *
 * <p><b>Forced settings</b>, applied last, to every request: {@code prefix} sets scriptName;
 * {@code popPrefix} moves that prefix from pathInfo to scriptName (a request outside it is
 * 400); {@code scheme}; {@code host} (host:port: Host, serverName, serverPort);
 * {@code domain} (Host = domain:port, serverName = domain); {@code port}.
 *
 * <p>Thread-safe.
 *
 * @since 0.1
 */
public final class ProxyMiddleware implements ForwardingHandler {
  /** Attribute holding what the proxy headers replaced: a map of the original fields and the removed headers. */
  public static final String ORIGINAL_ATTRIBUTE = "proxykit.original";

  private final ProxyHandler next;
  private final @Nullable RequestVerifier verifier;
  private final boolean requireSignature;
  private final IpRanges trustedIps;
  private final HeaderCodecs codecs;
  private final @Nullable String prefix;
  private final @Nullable String popPrefix;
  private final @Nullable String scheme;
  private final @Nullable String host;
  private final @Nullable String domain;
  private final @Nullable Integer port;

  private ProxyMiddleware(Builder builder) {
    this.next = builder.next;
    this.verifier = builder.verifier;
    this.requireSignature = builder.requireSignature;
    this.trustedIps = builder.trustedIps != null ? builder.trustedIps
        : builder.verifier != null ? IpRanges.of(List.of()) : IpRanges.LOOPBACK;
    this.codecs = builder.codecs != null ? builder.codecs : HeaderCodecs.load();
    this.prefix = builder.prefix;
    this.popPrefix = builder.popPrefix;
    this.scheme = builder.scheme;
    this.host = builder.host;
    this.domain = builder.domain;
    this.port = builder.port;
  }

  /** Returns a builder for middleware in front of {@code next}. */
  public static Builder builder(ProxyHandler next) {
    return new Builder(next);
  }

  @Override
  public ProxyResponse handle(ProxyRequest request) throws IOException {
    return forward(request).send();
  }

  /**
   * Verifies and restores {@code request} as {@link #handle} does, then forwards it the way
   * the next handler does: directly if it is a {@link ForwardingHandler} with a direct
   * forward, else by calling it where blocking is allowed.
   */
  @Override
  public Forward forward(ProxyRequest request) throws IOException {
    // another party's Signature (a webhook's, say) is not ours to check, refuse or remove
    boolean signed = request.headers().all(ProxyHeaders.SIGNATURE_INPUT).stream()
        .anyMatch(input -> input.contains(org.proxykit.protocol.RequestSigner.LABEL + "="));
    boolean trusted;
    if (verifier != null && signed) {
      verifier.verify(request);
      trusted = true;
    } else if (trustedIps.contains(request.remoteAddr())) {
      trusted = true;
    } else if (verifier != null && requireSignature) {
      throw ProxyStatusException.unauthorized("request is not signed");
    } else {
      trusted = false;
    }
    ProxyRequest.Builder restored;
    if (trusted) {
      restored = restore(request);
    } else {
      refuseTrustedKinds(request);
      restored = request.toBuilder().headers(withoutProxyHeaders(request.headers(), false));
    }
    ProxyRequest forwarded;
    try {
      forwarded = force(restored).build();
    } catch (IllegalStateException e) {
      // an override or forwarded value that no request may hold, such as a script name without /
      throw ProxyStatusException.badRequest("proxy headers make an invalid request: " + e.getMessage());
    }
    if (next instanceof ForwardingHandler) {
      return ((ForwardingHandler) next).forward(forwarded);
    }
    return Forward.blocking(forwarded, restoredRequest -> {
      ProxyResponse response = next.handle(restoredRequest);
      if (response == null) {
        throw new IllegalStateException("handler returned null: " + next);
      }
      return response;
    });
  }

  private void refuseTrustedKinds(ProxyRequest request) throws ProxyStatusException {
    for (int i = 0; i < request.headers().size(); i++) {
      String name = request.headers().name(i);
      if (AttributeHeaders.isAttributeHeader(name)) {
        String kind = name.substring(ProxyHeaders.WSGIPROXY_PREFIX.length(), name.lastIndexOf('-'));
        HeaderCodec codec = codecs.get(kind);
        if (codec != null && codec.requiresTrustedSender()) {
          throw ProxyStatusException.forbidden(name + ": " + codec.kind() + " attributes are accepted from a trusted "
              + "sender only");
        }
      }
    }
  }

  private ProxyRequest.Builder restore(ProxyRequest request) throws ProxyStatusException {
    HttpHeaders headers = request.headers();
    String version = headers.first(ProxyHeaders.VERSION);
    if (version != null && !version.strip().equals(ProxyHeaders.VERSION_VALUE)) {
      throw ProxyStatusException.badRequest("unsupported " + ProxyHeaders.VERSION + ": " + version);
    }
    List<Map<String, String>> forwarded;
    try {
      forwarded = Forwarded.elements(headers.all(ProxyHeaders.FORWARDED));
    } catch (IllegalArgumentException e) {
      throw ProxyStatusException.badRequest(e.getMessage());
    }
    Map<String, String> nearest = forwarded.isEmpty() ? Map.of() : forwarded.get(forwarded.size() - 1);

    for (String name : headers.names()) {
      if (ProxyHeaders.isProxyHeader(name) && headers.all(name).size() > 1 && !isList(name)) {
        throw ProxyStatusException.badRequest("header " + name + " appears more than once");
      }
    }
    boolean ours = request.headers().all(ProxyHeaders.SIGNATURE_INPUT).stream()
        .anyMatch(input -> input.contains(org.proxykit.protocol.RequestSigner.LABEL + "="));
    ProxyRequest.Builder restored = request.toBuilder().headers(withoutProxyHeaders(headers, ours));
    String newScheme = first(headers.first(ProxyHeaders.OVERRIDE_SCHEME), headers.first(ProxyHeaders.FORWARDED_SCHEME),
        rightmost(headers, ProxyHeaders.FORWARDED_PROTO), nearest.get("proto"));
    String effectiveScheme = request.scheme();
    if (newScheme != null) {
      effectiveScheme = newScheme.strip().toLowerCase(Locale.ROOT);
      if (!effectiveScheme.equals("http") && !effectiveScheme.equals("https")) {
        throw ProxyStatusException.badRequest("forwarded scheme must be http or https, got '" + newScheme + "'");
      }
      restored.scheme(effectiveScheme);
    }
    String newHost = first(headers.first(ProxyHeaders.OVERRIDE_HOST), headers.first(ProxyHeaders.FORWARDED_SERVER),
        rightmost(headers, ProxyHeaders.FORWARDED_HOST), nearest.get("host"));
    String forwardedPort = rightmost(headers, ProxyHeaders.FORWARDED_PORT);
    if (newHost != null) {
      HostAndPort parsed = hostAndPort(newHost.strip(), effectiveScheme);
      if (forwardedPort != null && !parsed.explicitPort() && headers.first(ProxyHeaders.OVERRIDE_HOST) == null) {
        int port = parsePort(forwardedPort);
        parsed = new HostAndPort(parsed.host(), port, port != defaultPort(effectiveScheme));
      }
      restored.setHeader("Host", parsed.toString()).serverName(parsed.host()).serverPort(parsed.port());
    } else if (newScheme != null) {
      restored.serverPort(0);
    }

    restoreClient(request, forwarded, restored);

    String traversal = headers.first(ProxyHeaders.TRAVERSAL_PATH);
    String forwardedScript = headers.first(ProxyHeaders.FORWARDED_SCRIPT_NAME);  // empty means the root mount
    String spawnScript = headers.first(ProxyHeaders.SCRIPT_NAME);
    String prefixScript = rightmost(headers, ProxyHeaders.FORWARDED_PREFIX);
    if (traversal != null || forwardedScript != null || spawnScript != null || prefixScript != null) {
      String path = request.path();
      if (traversal != null && !traversal.isEmpty()) {
        if (path.equals(traversal)) {
          path = "";
        } else if (path.startsWith(traversal + "/")) {
          path = path.substring(traversal.length());
        } else {
          throw ProxyStatusException.badRequest("path '" + path + "' does not start with " + ProxyHeaders.TRAVERSAL_PATH
              + " '" + traversal + "'");
        }
      }
      String scriptName = forwardedScript != null ? forwardedScript : spawnScript != null ? spawnScript
          : prefixScript != null ? prefixScript : "";
      if (!scriptName.isEmpty() && !scriptName.startsWith("/")) {
        throw ProxyStatusException.badRequest("forwarded script name must start with /, got '" + scriptName + "'");
      }
      if (scriptName.endsWith("/")) {
        scriptName = scriptName.substring(0, scriptName.length() - 1);
      }
      if (forwardedScript == null && !scriptName.isEmpty() && startsWithSegment(path, scriptName)) {
        path = path.substring(scriptName.length());
      }
      restored.scriptName(scriptName).pathInfo(path);
    }
    String traversalQuery = headers.first(ProxyHeaders.TRAVERSAL_QUERY_STRING);
    if (traversalQuery != null && !traversalQuery.isEmpty()) {
      String query = request.queryString();
      if (query.equals(traversalQuery)) {
        restored.queryString("");
      } else if (query.endsWith("&" + traversalQuery)) {
        restored.queryString(query.substring(0, query.length() - traversalQuery.length() - 1));
      } else {
        throw ProxyStatusException.badRequest("query '" + query + "' does not end with "
            + ProxyHeaders.TRAVERSAL_QUERY_STRING + " '" + traversalQuery + "'");
      }
    }
    String scriptOverride = headers.first(ProxyHeaders.OVERRIDE_SCRIPT_NAME);
    if (scriptOverride != null) {
      restored.scriptName(scriptOverride);
    }
    String pathOverride = headers.first(ProxyHeaders.OVERRIDE_PATH_INFO);
    if (pathOverride != null) {
      restored.pathInfo(pathOverride);
    }
    String queryOverride = headers.first(ProxyHeaders.OVERRIDE_QUERY_STRING);
    if (queryOverride != null) {
      restored.queryString(queryOverride);
    }

    AttributeHeaders.decode(headers, codecs, true).forEach(restored::attribute);
    restored.attribute(ORIGINAL_ATTRIBUTE, original(request));
    return restored;
  }

  /** Sets remoteAddr from X-Forwarded-For (else Forwarded for), right to left past trusted proxies. */
  private void restoreClient(ProxyRequest request, List<Map<String, String>> forwarded, ProxyRequest.Builder restored) {
    List<String> chain = new ArrayList<>();
    List<String> xff = request.headers().all(ProxyHeaders.FORWARDED_FOR);
    if (!xff.isEmpty()) {
      for (String value : xff) {
        for (String entry : value.split(",")) {
          chain.add(entry.strip());
        }
      }
    } else {
      for (Map<String, String> element : forwarded) {
        if (element.containsKey("for")) {
          chain.add(Forwarded.address(element.get("for")));
        }
      }
    }
    String client = null;
    for (int i = chain.size() - 1; i >= 0; i--) {
      String entry = chain.get(i);
      if (IpRanges.parse(entry) == null) {
        break;
      }
      client = entry.startsWith("[") ? entry.substring(1, entry.length() - 1) : entry;
      if (!trustedIps.contains(entry)) {
        break;
      }
    }
    if (client != null) {
      // the peer's port says nothing about the client's
      restored.remoteAddr(client).remotePort(-1);
    }
  }

  private ProxyRequest.Builder force(ProxyRequest.Builder request) throws ProxyStatusException {
    ProxyRequest current = request.build();  // may throw IllegalStateException: see handle
    if (prefix != null) {
      request.scriptName(prefix);
    }
    if (popPrefix != null) {
      if (!startsWithSegment(current.pathInfo(), popPrefix)) {
        throw ProxyStatusException.badRequest("expected all requests to start with the path '" + popPrefix + "'");
      }
      request.scriptName(current.scriptName() + popPrefix).pathInfo(current.pathInfo().substring(popPrefix.length()));
    }
    if (scheme != null) {
      request.scheme(scheme);
    }
    if (host != null) {
      HostAndPort parsed = hostAndPort(host, scheme != null ? scheme : current.scheme());
      request.setHeader("Host", parsed.toString()).serverName(parsed.host()).serverPort(parsed.port());
    }
    if (domain != null || port != null) {
      int actualPort = port != null ? port : current.serverPort();
      String name = domain != null ? domain : current.serverName();
      request.setHeader("Host", new HostAndPort(name, actualPort, true).toString()).serverName(name).serverPort(actualPort);
    }
    return request;
  }

  private static Map<String, Object> original(ProxyRequest request) {
    Map<String, Object> original = new LinkedHashMap<>();
    original.put("scheme", request.scheme());
    original.put("host", String.valueOf(request.header("Host")));
    original.put("serverName", request.serverName());
    original.put("serverPort", request.serverPort());
    original.put("remoteAddr", String.valueOf(request.remoteAddr()));
    original.put("remotePort", request.remotePort());
    original.put("scriptName", request.scriptName());
    original.put("pathInfo", request.pathInfo());
    original.put("queryString", request.queryString());
    Map<String, List<String>> removed = new LinkedHashMap<>();
    request.headers().toMap().forEach((name, values) -> {
      if (isRemoved(name, true)) {
        removed.put(name, values);
      }
    });
    original.put("headers", removed);
    return original;
  }

  /** Returns the headers without proxy headers, and without the signature headers if they are ours. */
  private static HttpHeaders withoutProxyHeaders(HttpHeaders headers, boolean ourSignature) {
    HttpHeaders.Builder kept = HttpHeaders.builder();
    headers.forEach((name, value) -> {
      if (!isRemoved(name, ourSignature)) {
        kept.add(name, value);
      }
    });
    return kept.build();
  }

  private static boolean isRemoved(String name, boolean ourSignature) {
    return ProxyHeaders.isProxyHeader(name) || ourSignature && (name.equalsIgnoreCase(ProxyHeaders.SIGNATURE)
        || name.equalsIgnoreCase(ProxyHeaders.SIGNATURE_INPUT));
  }

  /** Returns true for the proxy headers that are lists every proxy appends to. */
  private static boolean isList(String name) {
    return name.equalsIgnoreCase(ProxyHeaders.FORWARDED_FOR) || name.equalsIgnoreCase(ProxyHeaders.FORWARDED)
        || name.equalsIgnoreCase(ProxyHeaders.FORWARDED_HOST) || name.equalsIgnoreCase(ProxyHeaders.FORWARDED_PROTO)
        || name.equalsIgnoreCase(ProxyHeaders.FORWARDED_PORT) || name.equalsIgnoreCase(ProxyHeaders.FORWARDED_PREFIX);
  }

  private static @Nullable String first(@Nullable String... values) {
    for (String value : values) {
      if (value != null && !value.isBlank()) {
        return value;
      }
    }
    return null;
  }

  /** Returns the last entry of the comma-separated list in every line of {@code name}: the one the nearest proxy added. */
  private static @Nullable String rightmost(HttpHeaders headers, String name) {
    List<String> lines = headers.all(name);
    if (lines.isEmpty()) {
      return null;
    }
    String[] entries = String.join(",", lines).split(",");
    return entries.length == 0 ? "" : entries[entries.length - 1].strip();
  }

  private static int parsePort(String text) throws ProxyStatusException {
    try {
      int parsed = Integer.parseInt(text.strip());
      if (parsed >= 1 && parsed <= 65535) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw ProxyStatusException.badRequest("forwarded port must be 1-65535, got '" + text + "'");
  }

  private static HostAndPort hostAndPort(String text, String scheme) throws ProxyStatusException {
    try {
      HostAndPort parsed = HostAndPort.parse(text, defaultPort(scheme));
      if (parsed.port() > 0) {
        return parsed;
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw ProxyStatusException.badRequest("forwarded host is not a host[:port]: '" + text + "'");
  }

  private static int defaultPort(String scheme) {
    return scheme.equals("https") ? 443 : 80;
  }

  static boolean startsWithSegment(String path, String prefix) {
    return prefix.isEmpty() || path.equals(prefix) || path.startsWith(prefix) && path.charAt(prefix.length()) == '/';
  }

  @Override
  public String toString() {
    StringBuilder text = new StringBuilder("ProxyMiddleware(trust ");
    text.append(verifier != null ? "signature" + (requireSignature ? " (required)" : "") + " or " : "")
        .append("ips ").append(trustedIps);
    for (Object[] forced : new Object[][] {{"prefix", prefix}, {"popPrefix", popPrefix}, {"scheme", scheme},
        {"host", host}, {"domain", domain}, {"port", port}}) {
      if (forced[1] != null) {
        text.append(", ").append(forced[0]).append(' ').append(forced[1]);
      }
    }
    return text.append(") -> ").append(next).toString();
  }

  /** Configures a {@link ProxyMiddleware}; {@link #build()} refuses contradictory settings. */
  public static final class Builder {
    private final ProxyHandler next;
    private @Nullable RequestVerifier verifier;
    private boolean requireSignature = true;
    private @Nullable IpRanges trustedIps;
    private @Nullable HeaderCodecs codecs;
    private @Nullable String prefix;
    private @Nullable String popPrefix;
    private @Nullable String scheme;
    private @Nullable String host;
    private @Nullable String domain;
    private @Nullable Integer port;

    private Builder(ProxyHandler next) {
      this.next = Objects.requireNonNull(next, "next");
    }

    /** Trusts requests this verifier accepts; unsigned requests are then refused unless {@link #requireSignature(boolean)} is false. */
    public Builder verifier(RequestVerifier verifier) {
      this.verifier = Objects.requireNonNull(verifier, "verifier");
      return this;
    }

    /** Whether an unsigned request from an address not trusted is refused (401, default) or has its proxy headers removed. */
    public Builder requireSignature(boolean require) {
      this.requireSignature = require;
      return this;
    }

    /** Trusts senders in these IP addresses and CIDR ranges; they are also the proxies skipped in X-Forwarded-For. */
    public Builder trustedIps(Collection<String> ranges) {
      this.trustedIps = IpRanges.of(List.copyOf(ranges));
      return this;
    }

    /** Sets the attribute kinds to decode; default: every kind found, with default settings. */
    public Builder codecs(HeaderCodecs codecs) {
      this.codecs = Objects.requireNonNull(codecs, "codecs");
      return this;
    }

    /** Forces scriptName to {@code prefix}. */
    public Builder prefix(String prefix) {
      this.prefix = path("prefix", prefix);
      return this;
    }

    /** Moves {@code popPrefix} from the start of pathInfo to scriptName; requests outside it are 400. */
    public Builder popPrefix(String popPrefix) {
      this.popPrefix = path("popPrefix", popPrefix);
      return this;
    }

    /** Forces the scheme, http or https. */
    public Builder scheme(String scheme) {
      String lower = scheme.toLowerCase(Locale.ROOT);
      if (!lower.equals("http") && !lower.equals("https")) {
        throw new IllegalArgumentException("scheme: must be http or https, got '" + scheme + "'");
      }
      this.scheme = lower;
      return this;
    }

    /** Forces Host, serverName and serverPort to {@code hostAndPort} ({@code host:port}). */
    public Builder host(String hostAndPort) {
      this.host = Objects.requireNonNull(hostAndPort, "host");
      return this;
    }

    /** Forces serverName and the Host name to {@code domain}, keeping the port. */
    public Builder domain(String domain) {
      this.domain = Objects.requireNonNull(domain, "domain");
      return this;
    }

    /** Forces serverPort and the Host port. */
    public Builder port(int port) {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port: must be 1-65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Returns the middleware.
     *
     * @throws IllegalArgumentException for prefix with popPrefix, host with domain or port,
     *     or a host without a port
     */
    public ProxyMiddleware build() {
      if (prefix != null && popPrefix != null) {
        throw new IllegalArgumentException("prefix and popPrefix cannot be combined");
      }
      if (host != null && (domain != null || port != null)) {
        throw new IllegalArgumentException("host cannot be combined with domain or port");
      }
      if (host != null) {
        int colon = host.lastIndexOf(':');
        boolean hasPort = colon > host.lastIndexOf(']') && host.substring(colon + 1).matches("\\d{1,5}");
        if (!hasPort) {
          throw new IllegalArgumentException("host must include a port (host:port), got '" + host + "'");
        }
      }
      return new ProxyMiddleware(this);
    }

    private static String path(String key, String value) {
      if (!value.startsWith("/") || value.endsWith("/") && value.length() > 1) {
        throw new IllegalArgumentException(key + ": must start with / and not end with /, got '" + value + "'");
      }
      return value.equals("/") ? "" : value;
    }
  }
}
