package org.proxykit.api;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * An HTTP request as a proxy sees it: proxykit's counterpart of the WSGI environ. Immutable;
 * make one with {@link #builder()} or {@link #blank(String)}, change a copy with
 * {@link #toBuilder()}.
 *
 * <table>
 *   <caption>Fields and the environ keys they replace</caption>
 *   <tr><th>field</th><th>environ</th><th>meaning</th></tr>
 *   <tr><td>{@link #method()}</td><td>REQUEST_METHOD</td><td>GET, POST, ...</td></tr>
 *   <tr><td>{@link #scheme()}</td><td>wsgi.url_scheme</td><td>{@code http} or {@code https}</td></tr>
 *   <tr><td>{@link #serverName()}, {@link #serverPort()}</td><td>SERVER_NAME, SERVER_PORT</td>
 *       <td>where an exact proxy connects; may differ from the Host header</td></tr>
 *   <tr><td>{@link #headers()}</td><td>HTTP_*, CONTENT_TYPE, CONTENT_LENGTH</td>
 *       <td>Host is a header like any other</td></tr>
 *   <tr><td>{@link #scriptName()}, {@link #pathInfo()}</td><td>SCRIPT_NAME, PATH_INFO</td>
 *       <td>the path already consumed by a mount, and the rest; both raw</td></tr>
 *   <tr><td>{@link #queryString()}</td><td>QUERY_STRING</td><td>raw, without {@code ?}</td></tr>
 *   <tr><td>{@link #remoteAddr()}, {@link #remotePort()}</td><td>REMOTE_ADDR</td><td>the client</td></tr>
 *   <tr><td>{@link #body()}</td><td>wsgi.input</td><td>read once</td></tr>
 *   <tr><td>{@link #attributes()}</td><td>any other key</td><td>REMOTE_USER, application objects</td></tr>
 * </table>
 *
 * <p>Paths and the query are kept exactly as received, percent-encoding included: a proxy
 * never decodes and re-encodes a path it forwards. Their characters stand for the bytes on
 * the wire (ISO-8859-1), so raw non-ASCII bytes pass through unchanged.
 *
 * <p>The body is the only mutable part: it is read once. Copies made with {@link #toBuilder()}
 * share it.
 *
 * @since 0.1
 */
public final class ProxyRequest {
  private final String method;
  private final String scheme;
  private final String serverName;
  private final int serverPort;
  /** True if serverPort was not given but taken from the scheme, so that it follows a scheme change in a copy. */
  private final boolean defaultServerPort;
  private final HttpHeaders headers;
  private final String scriptName;
  private final String pathInfo;
  private final String queryString;
  private final @Nullable String remoteAddr;
  private final int remotePort;
  private final Body body;
  private final Map<String, Object> attributes;

  private ProxyRequest(Builder builder) {
    this.method = builder.method;
    this.scheme = builder.scheme;
    this.serverName = builder.serverName;
    this.serverPort = builder.serverPort == 0 ? defaultPort(builder.scheme) : builder.serverPort;
    this.defaultServerPort = builder.serverPort == 0;
    this.headers = builder.headers.build();
    this.scriptName = builder.scriptName;
    this.pathInfo = builder.pathInfo;
    this.queryString = builder.queryString;
    this.remoteAddr = builder.remoteAddr;
    this.remotePort = builder.remotePort;
    this.body = builder.body;
    this.attributes = builder.attributes.isEmpty() ? Map.of()
        : Collections.unmodifiableMap(new LinkedHashMap<>(builder.attributes));
  }

  /**
   * Returns a GET request for an absolute {@code http} or {@code https} URL, the way WebOb's
   * {@code Request.blank} makes one: scheme, serverName and serverPort (80 or 443 when the
   * URL gives none) from the URL, a Host header holding the URL's {@code host} or
   * {@code host:port} exactly as written, and pathInfo and queryString raw. Characters a URL
   * may not hold in ASCII (such as {@code ü}) are percent-encoded as UTF-8, as browsers do; a
   * fragment is dropped. Use {@link #toBuilder()} to change the method, add headers or a body.
   *
   * @throws IllegalArgumentException naming the problem if {@code url} is malformed, not
   *     absolute, not http(s), has no host, has user info or a port out of range
   */
  public static ProxyRequest blank(String url) {
    Objects.requireNonNull(url, "url");
    URI uri;
    try {
      uri = new URI(new URI(url).toASCIIString());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("malformed URL " + HttpHeaders.quote(url) + ": " + e.getReason()
          + (e.getIndex() >= 0 ? " at index " + e.getIndex() : ""));
    }
    if (uri.getScheme() == null) {
      throw new IllegalArgumentException("URL " + HttpHeaders.quote(url) + " is not absolute: it needs http:// or https://");
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("URL " + HttpHeaders.quote(url) + " has scheme '" + scheme
          + "': only http and https are supported");
    }
    if (uri.isOpaque() || uri.getRawAuthority() == null) {
      throw new IllegalArgumentException("URL " + HttpHeaders.quote(url) + " has no host");
    }
    if (uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException("URL " + HttpHeaders.quote(url)
          + " carries user info: send credentials in an Authorization header instead");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("URL " + HttpHeaders.quote(url) + " has no valid host[:port]: '"
          + uri.getRawAuthority() + "'");
    }
    int port = uri.getPort();
    if (port == 0 || port > 65535) {
      throw new IllegalArgumentException("URL " + HttpHeaders.quote(url) + " has port " + port
          + ", outside 1-65535");
    }
    return builder()
        .scheme(scheme)
        .serverName(uri.getHost())
        .serverPort(port == -1 ? 0 : port)
        .header("Host", uri.getRawAuthority())
        .pathInfo(uri.getRawPath())
        .queryString(uri.getRawQuery() == null ? "" : uri.getRawQuery())
        .build();
  }

  /** Returns an empty builder: method GET, scheme http; serverName must be set. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a builder holding this request's fields (sharing its body), to make a changed copy. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Returns the method, such as {@code GET}; methods are case-sensitive. */
  public String method() {
    return method;
  }

  /** Returns {@code http} or {@code https}. */
  public String scheme() {
    return scheme;
  }

  /** Returns the host an exact proxy connects to: a name or an IP address (IPv6 without brackets). */
  public String serverName() {
    return serverName;
  }

  /** Returns the port an exact proxy connects to. */
  public int serverPort() {
    return serverPort;
  }

  /** Returns the header fields, Host included. */
  public HttpHeaders headers() {
    return headers;
  }

  /** Returns the first value of header {@code name} (any case), or null. */
  public @Nullable String header(String name) {
    return headers.first(name);
  }

  /** Returns the raw path prefix already consumed by the mount that routed here: empty or {@code /...}. */
  public String scriptName() {
    return scriptName;
  }

  /** Returns the raw rest of the path after {@link #scriptName()}: empty or {@code /...}. */
  public String pathInfo() {
    return pathInfo;
  }

  /** Returns {@code scriptName + pathInfo}, the raw path as the client sent it (possibly empty). */
  public String path() {
    return scriptName + pathInfo;
  }

  /** Returns the raw query without the {@code ?}; empty if there is none. */
  public String queryString() {
    return queryString;
  }

  /**
   * Returns the origin-form request target to send: the raw {@link #path()} ({@code /} if
   * empty) followed by {@code ?} and the query when there is one.
   */
  public String requestTarget() {
    String path = path().isEmpty() ? "/" : path();
    return queryString.isEmpty() ? path : path + '?' + queryString;
  }

  /** Returns the client's IP address as text, or null if unknown (a request made in code). */
  public @Nullable String remoteAddr() {
    return remoteAddr;
  }

  /** Returns the client's port, or -1 if unknown. */
  public int remotePort() {
    return remotePort;
  }

  /** Returns the body; the empty body if the request has none. */
  public Body body() {
    return body;
  }

  /** Returns the attributes (the rest of the environ), in insertion order; unmodifiable. */
  public Map<String, Object> attributes() {
    return attributes;
  }

  /** Returns attribute {@code key}, or null if it is not set. */
  public @Nullable Object attribute(String key) {
    return attributes.get(key);
  }

  /**
   * Returns the URL the client asked for, rebuilt as WSGI's {@code reconstruct_url} does:
   * scheme, the Host header (else serverName and a non-default port), {@link #requestTarget()}.
   */
  public String url() {
    return scheme + "://" + host() + requestTarget();
  }

  /**
   * Returns the host the client asked for: the Host header, else serverName (bracketed if
   * IPv6) with {@code :serverPort} unless it is the scheme's default.
   */
  public String host() {
    String host = headers.first("Host");
    if (host != null && !host.isEmpty()) {
      return host;
    }
    return new HostAndPort(serverName, serverPort, serverPort != defaultPort(scheme)).toString();
  }

  /** Returns the request line and where it goes, such as {@code GET http://a/b (server a:80)}; no headers, no body. */
  @Override
  public String toString() {
    return method + ' ' + url() + " (server " + serverName + ':' + serverPort + ')';
  }

  static int defaultPort(String scheme) {
    return scheme.equals("https") ? 443 : 80;
  }

  /**
   * Collects the fields of a {@link ProxyRequest}. {@link #build()} checks them and names
   * the first bad one.
   */
  public static final class Builder {
    private String method = "GET";
    private String scheme = "http";
    private @Nullable String serverName;
    private int serverPort;
    private HttpHeaders.Builder headers;
    private String scriptName = "";
    private String pathInfo = "";
    private String queryString = "";
    private @Nullable String remoteAddr;
    private int remotePort = -1;
    private Body body = Body.empty();
    private final Map<String, Object> attributes = new LinkedHashMap<>();

    private Builder() {
      this.headers = HttpHeaders.builder();
    }

    private Builder(ProxyRequest request) {
      this.method = request.method;
      this.scheme = request.scheme;
      this.serverName = request.serverName;
      this.serverPort = request.defaultServerPort ? 0 : request.serverPort;
      this.headers = request.headers.toBuilder();
      this.scriptName = request.scriptName;
      this.pathInfo = request.pathInfo;
      this.queryString = request.queryString;
      this.remoteAddr = request.remoteAddr;
      this.remotePort = request.remotePort;
      this.body = request.body;
      this.attributes.putAll(request.attributes);
    }

    /** Sets the method (an HTTP token such as {@code POST}); default GET. */
    public Builder method(String method) {
      this.method = Objects.requireNonNull(method, "method");
      return this;
    }

    /** Sets the scheme, {@code http} (default) or {@code https}, in any case. */
    public Builder scheme(String scheme) {
      this.scheme = Objects.requireNonNull(scheme, "scheme").toLowerCase(Locale.ROOT);
      return this;
    }

    /** Sets the host to connect to; an IPv6 address may come with or without brackets. */
    public Builder serverName(String serverName) {
      Objects.requireNonNull(serverName, "serverName");
      boolean bracketed = serverName.length() > 2 && serverName.startsWith("[") && serverName.endsWith("]");
      this.serverName = bracketed ? serverName.substring(1, serverName.length() - 1) : serverName;
      return this;
    }

    /**
     * Sets the port to connect to. If never set, or set to 0, the scheme's default (80 or
     * 443), which then follows a later change of scheme, also in copies.
     */
    public Builder serverPort(int serverPort) {
      this.serverPort = serverPort;
      return this;
    }

    /** Replaces all header fields. */
    public Builder headers(HttpHeaders headers) {
      this.headers = headers.toBuilder();
      return this;
    }

    /** Adds a header field, keeping other values of the same name. */
    public Builder header(String name, String value) {
      headers.add(name, value);
      return this;
    }

    /** Replaces every field named {@code name} with one holding {@code value}. */
    public Builder setHeader(String name, String value) {
      headers.set(name, value);
      return this;
    }

    /** Removes every field named {@code name}. */
    public Builder removeHeader(String name) {
      headers.remove(name);
      return this;
    }

    /** Sets the raw script name: empty or starting with {@code /}. */
    public Builder scriptName(String scriptName) {
      this.scriptName = Objects.requireNonNull(scriptName, "scriptName");
      return this;
    }

    /** Sets the raw path info: empty or starting with {@code /}. */
    public Builder pathInfo(String pathInfo) {
      this.pathInfo = Objects.requireNonNull(pathInfo, "pathInfo");
      return this;
    }

    /** Sets the raw query, without {@code ?}; empty for none. */
    public Builder queryString(String queryString) {
      this.queryString = Objects.requireNonNull(queryString, "queryString");
      return this;
    }

    /** Sets the client's address, or null if unknown. */
    public Builder remoteAddr(@Nullable String remoteAddr) {
      this.remoteAddr = remoteAddr;
      return this;
    }

    /** Sets the client's port, or -1 if unknown. */
    public Builder remotePort(int remotePort) {
      this.remotePort = remotePort;
      return this;
    }

    /** Sets the body; it is read by whoever handles the built request. */
    public Builder body(Body body) {
      this.body = Objects.requireNonNull(body, "body");
      return this;
    }

    /** Replaces all attributes with a copy of {@code attributes}. */
    public Builder attributes(Map<String, ?> attributes) {
      this.attributes.clear();
      attributes.forEach(this::attribute);
      return this;
    }

    /** Sets attribute {@code key} to {@code value} (not null: use {@link #removeAttribute}). */
    public Builder attribute(String key, Object value) {
      Objects.requireNonNull(key, "attribute key");
      Objects.requireNonNull(value, () -> "value of attribute " + key);
      if (key.isEmpty()) {
        throw new IllegalArgumentException("attribute key is empty");
      }
      attributes.put(key, value);
      return this;
    }

    /** Removes attribute {@code key} if it is set. */
    public Builder removeAttribute(String key) {
      attributes.remove(key);
      return this;
    }

    /**
     * Returns the request.
     *
     * @throws IllegalStateException naming the field if one is missing or not legal
     */
    public ProxyRequest build() {
      if (method.isEmpty() || !isToken(method)) {
        throw invalid("method", method, "not an HTTP token");
      }
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw invalid("scheme", scheme, "must be http or https");
      }
      if (serverName == null) {
        throw new IllegalStateException("serverName is required");
      }
      checkServerName(serverName);
      if (serverPort < 0 || serverPort > 65535) {
        throw invalid("serverPort", String.valueOf(serverPort), "must be within 1-65535");
      }
      checkPath("scriptName", scriptName);
      checkPath("pathInfo", pathInfo);
      checkUriChars("queryString", queryString, "#");
      if (headers.build().all("Host").size() > 1) {
        throw new IllegalStateException("headers hold more than one Host: use setHeader(\"Host\", ...) to replace it");
      }
      if (remotePort < -1 || remotePort > 65535) {
        throw invalid("remotePort", String.valueOf(remotePort), "must be -1 (unknown) or within 0-65535");
      }
      if (remoteAddr != null && (remoteAddr.isEmpty() || !isVisibleAscii(remoteAddr))) {
        throw invalid("remoteAddr", remoteAddr, "not an address");
      }
      return new ProxyRequest(this);
    }

    private static void checkServerName(String name) {
      if (name.isEmpty()) {
        throw invalid("serverName", name, "is empty");
      }
      boolean ipv6 = name.indexOf(':') >= 0;
      for (int i = 0; i < name.length(); i++) {
        char c = name.charAt(i);
        boolean legal = ipv6
            ? c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.'
            : c > 0x20 && c < 0x7f && "/?#@[]\\:%\"<>^`{|}".indexOf(c) < 0;
        if (!legal) {
          throw invalid("serverName", name, (ipv6 ? "is not an IPv6 address: illegal character at index "
              : "has an illegal character at index ") + i);
        }
      }
    }

    private static void checkPath(String field, String path) {
      if (!path.isEmpty() && path.charAt(0) != '/') {
        throw invalid(field, path, "must be empty or start with /");
      }
      checkUriChars(field, path, "?#");
    }

    private static void checkUriChars(String field, String text, String forbidden) {
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (c <= 0x20 || c == 0x7f || c > 0xff || forbidden.indexOf(c) >= 0) {
          throw invalid(field, text, "has an illegal character at index " + i);
        }
      }
    }

    private static IllegalStateException invalid(String field, String value, String problem) {
      return new IllegalStateException(field + " " + HttpHeaders.quote(value) + " " + problem);
    }
  }

  private static boolean isToken(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (!HttpHeaders.isTokenChar(text.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isVisibleAscii(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) <= 0x20 || text.charAt(i) >= 0x7f) {
        return false;
      }
    }
    return true;
  }
}
