package org.proxykit.protocol;

import java.util.Locale;

/**
 * The header names of the app-to-middleware protocol (WSGIProxy 0.1), and which headers
 * count as proxy headers: the ones a signature must cover and an untrusted sender may never
 * set.
 *
 * @since 0.1
 */
public final class ProxyHeaders {
  /** The original Host. */
  public static final String FORWARDED_SERVER = "X-Forwarded-Server";
  /** The original scheme. */
  public static final String FORWARDED_SCHEME = "X-Forwarded-Scheme";
  /** The client address chain, the nearest client last. */
  public static final String FORWARDED_FOR = "X-Forwarded-For";
  /** The original script name (mount prefix). */
  public static final String FORWARDED_SCRIPT_NAME = "X-Forwarded-Script-Name";
  /** De-facto standard: the original scheme. */
  public static final String FORWARDED_PROTO = "X-Forwarded-Proto";
  /** De-facto standard: the original Host. */
  public static final String FORWARDED_HOST = "X-Forwarded-Host";
  /** De-facto standard: the original port. */
  public static final String FORWARDED_PORT = "X-Forwarded-Port";
  /** De-facto standard: the original path prefix. */
  public static final String FORWARDED_PREFIX = "X-Forwarded-Prefix";
  /** RFC 7239. */
  public static final String FORWARDED = "Forwarded";
  /** The path the app's href added before the original path info. */
  public static final String TRAVERSAL_PATH = "X-Traversal-Path";
  /** The query the app's href appended to the original query with {@code &}. */
  public static final String TRAVERSAL_QUERY_STRING = "X-Traversal-Query-String";
  /** The script name as the spawner sends it. */
  public static final String SCRIPT_NAME = "X-Script-Name";
  /** The protocol version, {@value #VERSION_VALUE}. */
  public static final String VERSION = "X-WSGIProxy-Version";
  /** The only protocol version there is. */
  public static final String VERSION_VALUE = "0.1";
  /** Override of Host. */
  public static final String OVERRIDE_HOST = "X-WSGIProxy-Host";
  /** Override of the script name. */
  public static final String OVERRIDE_SCRIPT_NAME = "X-WSGIProxy-Script-Name";
  /** Override of the path info. */
  public static final String OVERRIDE_PATH_INFO = "X-WSGIProxy-Path-Info";
  /** Override of the query string. */
  public static final String OVERRIDE_QUERY_STRING = "X-WSGIProxy-Query-String";
  /** Override of the scheme. */
  public static final String OVERRIDE_SCHEME = "X-WSGIProxy-Wsgi-Url-Scheme";
  /** RFC 9421: what a signature covers. */
  public static final String SIGNATURE_INPUT = "Signature-Input";
  /** RFC 9421: the signature. */
  public static final String SIGNATURE = "Signature";
  /** The prefix of every WSGIProxy header. */
  public static final String WSGIPROXY_PREFIX = "X-WSGIProxy-";

  private ProxyHeaders() {}

  /**
   * Returns true if {@code name} is a proxy header: any {@code X-WSGIProxy-*},
   * {@code X-Forwarded-*} or {@code X-Traversal-*}, {@code Forwarded} or {@code X-Script-Name},
   * also spelled with {@code _} for {@code -} (CGI and WSGI servers read both the same way).
   */
  public static boolean isProxyHeader(String name) {
    String lower = name.toLowerCase(Locale.ROOT).replace('_', '-');
    return lower.startsWith("x-wsgiproxy-") || lower.startsWith("x-forwarded-") || lower.startsWith("x-traversal-")
        || lower.equals("forwarded") || lower.equals("x-script-name");
  }
}
