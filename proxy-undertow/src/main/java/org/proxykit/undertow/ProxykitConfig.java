package org.proxykit.undertow;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.proxykit.api.Nullable;
import org.proxykit.api.spi.Settings;

/**
 * A proxykit server's configuration, as written in YAML:
 * <pre>{@code
 * server:
 *   listen: 127.0.0.1:8080          # or a list
 *   http2: true                     # h2c upgrade on http, ALPN h2 on https
 *   tls: { cert: cert.pem, key: key.pem }
 *   limits: { maxRequestLine: 8KiB, maxHeaderSize: 16KiB, maxHeaders: 100, maxBodySize: 100MiB, headerTimeout: 30s,
 *             idleTimeout: 60s, bodyTimeout: 60s, bodyMinRate: 512 }
 *   workerThreads: 200
 *   shutdownGrace: 30s
 *   accessLog: stdout               # or off, or a file path
 * mounts:
 *   - path: /echo
 *     handler: { type: echo }
 * }</pre>
 * Every mistake is a {@link ConfigException} of one line naming the file and the key path.
 * Handler maps are checked when the handlers are made ({@link Proxykit}), with the same
 * messages.
 *
 * @param source where the configuration came from, named in errors (a file, or {@code command line})
 * @param listeners the addresses to listen on; port 0 picks a free one
 * @param http2 whether HTTP/2 is offered (h2c and ALPN)
 * @param tls the certificate and key, or null for plain HTTP
 * @param limits request limits and timeouts
 * @param workerThreads threads that run handlers; each in-flight request holds one
 * @param shutdownGrace how long a stop waits for in-flight requests
 * @param accessLog {@code stdout}, {@code off}, or a file to append to
 * @param mounts path prefixes and the handler of each
 * @param folder where relative file names in handler settings are found: the config file's folder
 * @since 0.1
 */
public record ProxykitConfig(String source, List<Listener> listeners, boolean http2, @Nullable Tls tls, Limits limits,
    int workerThreads, Duration shutdownGrace, String accessLog, List<Mount> mounts, Path folder) {

  private static final Set<String> TOP_KEYS = Set.of("server", "mounts");
  private static final Set<String> SERVER_KEYS =
      Set.of("listen", "http2", "tls", "limits", "workerThreads", "shutdownGrace", "accessLog");

  /**
   * An address to listen on.
   *
   * @param host a name or IP address (IPv6 without brackets)
   * @param port the port; 0 picks a free one
   */
  public record Listener(String host, int port) {
    /** Returns {@code host:port}, brackets around an IPv6 address. */
    @Override
    public String toString() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /**
   * PEM files for TLS.
   *
   * @param cert the certificate chain, server certificate first
   * @param key the private key (PKCS#8, or PKCS#1/SEC1 "RSA/EC PRIVATE KEY")
   */
  public record Tls(Path cert, Path key) {}

  /**
   * Limits that protect the server, with defaults near nginx's. Requests beyond them are
   * refused before any handler sees them.
   *
   * @param maxRequestLine bytes of the request line (414 beyond); nginx's large_client_header_buffers buffer is 8 KiB
   * @param maxHeaderSize bytes of request line and headers (431 beyond); nginx allows 4 x 8 KiB buffers
   * @param maxHeaders number of header fields (431 beyond); nginx has no count limit, Undertow 200
   * @param maxBodySize request body bytes, or -1 for no limit (in the config: -1, or no key); nginx's client_max_body_size is 1 MiB
   * @param headerTimeout time to receive the request head from its first byte (408); nginx's client_header_timeout is 60s
   * @param idleTimeout time a kept-alive connection may wait for its next request; nginx's keepalive_timeout is 75s
   * @param bodyTimeout time the request body may stop arriving before 408; nginx's client_body_timeout is 60s
   * @param bodyMinRate bytes per second a request body must average once {@code bodyTimeout} has
   *     passed since its start (408 below), so that a client sending a byte now and then cannot
   *     hold a connection upstream or a worker for ever; 0 for none. Apache's mod_reqtimeout
   *     MinRate is 500; nginx has none (it buffers bodies before it connects upstream)
   */
  public record Limits(long maxRequestLine, long maxHeaderSize, int maxHeaders, long maxBodySize, Duration headerTimeout,
      Duration idleTimeout, Duration bodyTimeout, long bodyMinRate) {
    /** The default minimum body rate: 512 bytes per second. */
    public static final long DEFAULT_BODY_MIN_RATE = 512;

    /**
     * The defaults: 8 KiB request line, 16 KiB of headers, 100 fields, no body limit, 30s for
     * the head, 60s idle, 60s body stall, 512 bytes/s.
     */
    public static final Limits DEFAULTS = new Limits(8 * 1024, 16 * 1024, 100, -1, Duration.ofSeconds(30),
        Duration.ofSeconds(60), Duration.ofSeconds(60), DEFAULT_BODY_MIN_RATE);

    /** Makes limits with the default minimum body rate. */
    public Limits(long maxRequestLine, long maxHeaderSize, int maxHeaders, long maxBodySize, Duration headerTimeout,
        Duration idleTimeout, Duration bodyTimeout) {
      this(maxRequestLine, maxHeaderSize, maxHeaders, maxBodySize, headerTimeout, idleTimeout, bodyTimeout,
          DEFAULT_BODY_MIN_RATE);
    }

    /** Makes limits with the default request line limit, 8 KiB, and the default minimum body rate. */
    public Limits(long maxHeaderSize, int maxHeaders, long maxBodySize, Duration headerTimeout, Duration idleTimeout,
        Duration bodyTimeout) {
      this(8 * 1024, maxHeaderSize, maxHeaders, maxBodySize, headerTimeout, idleTimeout, bodyTimeout);
    }
  }

  /**
   * A handler mounted at a path prefix.
   *
   * @param path {@code /} or a prefix such as {@code /app} (no trailing slash), matched on segment boundaries
   * @param handler the handler's map, {@code type} included, with its key path
   */
  public record Mount(String path, Settings handler) {}

  /** Checks the fields; see the class description. */
  public ProxykitConfig {
    Objects.requireNonNull(source, "source");
    listeners = List.copyOf(listeners);
    mounts = List.copyOf(mounts);
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    Objects.requireNonNull(accessLog, "accessLog");
    Objects.requireNonNull(folder, "folder");
    if (listeners.isEmpty()) {
      throw new ConfigException(source + ": server.listen: at least one HOST:PORT is needed");
    }
    // also when made in code: the guard and Undertow take these as int
    checkSize(source, "server.limits.maxRequestLine", limits.maxRequestLine());
    checkSize(source, "server.limits.maxHeaderSize", limits.maxHeaderSize());
    if (limits.maxHeaders() < 1) {
      throw new ConfigException(source + ": server.limits.maxHeaders: must be at least 1, got " + limits.maxHeaders());
    }
    // also when made in code: these become int milliseconds (Durations)
    checkTimeout(source, "server.limits.headerTimeout", limits.headerTimeout());
    checkTimeout(source, "server.limits.idleTimeout", limits.idleTimeout());
    checkTimeout(source, "server.limits.bodyTimeout", limits.bodyTimeout());
    if (limits.bodyMinRate() < 0) {
      throw new ConfigException(source + ": server.limits.bodyMinRate: must be 0 (none) or more, got "
          + limits.bodyMinRate());
    }
    checkTimeout(source, "server.shutdownGrace", shutdownGrace);
  }

  private static void checkSize(String source, String key, long value) {
    if (value < 1 || value > Integer.MAX_VALUE) {
      throw new ConfigException(source + ": " + key + ": must be more than 0 and at most " + Integer.MAX_VALUE
          + " bytes, got " + value);
    }
  }

  private static void checkTimeout(String source, String key, Duration value) {
    if (value.isNegative() || value.isZero() || value.compareTo(Durations.MAX) > 0) {
      throw new ConfigException(source + ": " + key + ": must be more than 0 and at most " + Durations.MAX.toMillis()
          + "ms (24.8 days), got " + value);
    }
  }

  /**
   * Returns the configuration for one listener and one handler at {@code /}, as the
   * command line's quick forms make it; everything else has its default.
   */
  public static ProxykitConfig quick(Listener listener, Map<String, ?> rootHandler) {
    return new ProxykitConfig("command line", List.of(listener), true, null, Limits.DEFAULTS, 200,
        Duration.ofSeconds(30), "stdout", List.of(new Mount("/", Settings.of("handler", rootHandler))), Path.of(""));
  }

  /** Returns a copy with {@code mounts} in place of these. */
  public ProxykitConfig withMounts(List<Mount> mounts) {
    return new ProxykitConfig(source, listeners, http2, tls, limits, workerThreads, shutdownGrace, accessLog, mounts, folder);
  }

  /** Returns a copy with {@code listeners} in place of these. */
  public ProxykitConfig withListeners(List<Listener> listeners) {
    return new ProxykitConfig(source, listeners, http2, tls, limits, workerThreads, shutdownGrace, accessLog, mounts, folder);
  }

  /** Returns a copy with {@code accessLog} in place of this. */
  public ProxykitConfig withAccessLog(String accessLog) {
    return new ProxykitConfig(source, listeners, http2, tls, limits, workerThreads, shutdownGrace, accessLog, mounts, folder);
  }

  /**
   * Reads the YAML file at {@code file}; relative TLS paths are taken from the file's folder.
   *
   * @throws ConfigException naming the file and the key path of the first mistake
   */
  public static ProxykitConfig load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": no such file");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage());
    }
    Path folder = file.toAbsolutePath().getParent();
    return parse(text, file.toString(), folder == null ? Path.of("") : folder);
  }

  /**
   * Reads YAML {@code text} from {@code source}; relative paths are taken from {@code folder}.
   *
   * @throws ConfigException naming the source and the key path of the first mistake
   */
  public static ProxykitConfig parse(String text, String source, Path folder) {
    Object root;
    try {
      ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
      yaml.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      root = yaml.readValue(text, Object.class);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : ":" + at.getLineNr() + ":" + at.getColumnNr();
      throw new ConfigException(source + where + ": not valid YAML: " + yamlProblem(e.getOriginalMessage()));
    }
    try {
      return fromTree(root, source, folder);
    } catch (ConfigException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source + ": " + e.getMessage());
    }
  }

  /** Returns the lines of a YAML parser message that say what is wrong, without the excerpt and pointers. */
  private static String yamlProblem(String message) {
    StringBuilder problem = new StringBuilder();
    message.lines()
        .filter(line -> !line.isBlank() && !Character.isWhitespace(line.charAt(0)) && !line.startsWith("[Source:"))
        .forEach(line -> problem.append(problem.length() == 0 ? "" : ", ").append(line.strip()));
    return problem.toString();
  }

  private static ProxykitConfig fromTree(@Nullable Object root, String source, Path folder) {
    if (!(root instanceof Map)) {
      throw new IllegalArgumentException("expected a map with 'server' and 'mounts'");
    }
    Settings top = Settings.of("", stringKeys((Map<?, ?>) root)).checkKnown(TOP_KEYS);
    Settings server = top.nested("server").checkKnown(SERVER_KEYS);

    List<Listener> listeners = new ArrayList<>();
    List<String> listen = server.strings("listen");
    if (listen.isEmpty()) {
      throw new IllegalArgumentException("server.listen: at least one HOST:PORT is needed");
    }
    for (int i = 0; i < listen.size(); i++) {
      String key = server.has("listen") && server.get("listen") instanceof List ? "server.listen[" + i + "]" : "server.listen";
      listeners.add(listener(key, listen.get(i)));
    }

    Tls tls = null;
    if (server.has("tls")) {
      Settings tlsSettings = server.nested("tls").checkKnown(Set.of("cert", "key"));
      tls = new Tls(file(tlsSettings, "cert", folder), file(tlsSettings, "key", folder));
    }

    Settings limitSettings = server.nested("limits")
        .checkKnown(Set.of("maxRequestLine", "maxHeaderSize", "maxHeaders", "maxBodySize", "headerTimeout", "idleTimeout",
            "bodyTimeout", "bodyMinRate"));
    Limits defaults = Limits.DEFAULTS;
    Limits limits = new Limits(
        positiveSize(limitSettings, "maxRequestLine", defaults.maxRequestLine()),
        positiveSize(limitSettings, "maxHeaderSize", defaults.maxHeaderSize()),
        positive(limitSettings, "maxHeaders", defaults.maxHeaders()),
        maxBodySize(limitSettings),
        nonZero(limitSettings, "headerTimeout", defaults.headerTimeout()),
        nonZero(limitSettings, "idleTimeout", defaults.idleTimeout()),
        nonZero(limitSettings, "bodyTimeout", defaults.bodyTimeout()),
        limitSettings.size("bodyMinRate", defaults.bodyMinRate()));

    boolean http2 = server.bool("http2", true);
    int workerThreads = positive(server, "workerThreads", 200);
    Duration shutdownGrace = nonZero(server, "shutdownGrace", Duration.ofSeconds(30));
    // YAML 1.1 reads unquoted off/on as false/true
    Object log = server.get("accessLog");
    String accessLog = Boolean.FALSE.equals(log) ? "off" : Boolean.TRUE.equals(log) ? "stdout"
        : server.string("accessLog", "stdout");
    if (!accessLog.equals("off") && !accessLog.equals("stdout")) {
      accessLog = folder.resolve(accessLog).toString();  // a file, found from the config's folder
    }

    List<Mount> mounts = new ArrayList<>();
    Object mountList = top.get("mounts");
    if (!(mountList instanceof List) || ((List<?>) mountList).isEmpty()) {
      throw new IllegalArgumentException("mounts: expected a list of {path, handler}");
    }
    Set<String> paths = new HashSet<>();
    List<?> entries = (List<?>) mountList;
    for (int i = 0; i < entries.size(); i++) {
      String key = "mounts[" + i + "]";
      if (!(entries.get(i) instanceof Map)) {
        throw new IllegalArgumentException(key + ": expected a map with 'path' and 'handler'");
      }
      Settings mount = Settings.of(key, stringKeys((Map<?, ?>) entries.get(i))).checkKnown(Set.of("path", "handler"));
      String path = mountPath(mount);
      if (!paths.add(path)) {
        throw new IllegalArgumentException(key + ".path: '" + path + "' is mounted twice");
      }
      if (!(mount.get("handler") instanceof Map)) {
        throw new IllegalArgumentException(key + ".handler: expected a map with a 'type'");
      }
      mounts.add(new Mount(path, mount.nested("handler")));
    }

    return new ProxykitConfig(source, listeners, http2, tls, limits, workerThreads, shutdownGrace, accessLog, mounts, folder);
  }

  /**
   * Reads {@code HOST:PORT} ({@code [v6]:PORT} for IPv6).
   *
   * @throws IllegalArgumentException naming {@code key} if the text is not an address
   */
  public static Listener listener(String key, String text) {
    try {
      org.proxykit.api.HostAndPort parsed = org.proxykit.api.HostAndPort.parse(text, 0);
      if (parsed.explicitPort()) {
        return new Listener(parsed.host(), parsed.port());
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw new IllegalArgumentException(key + ": expected HOST:PORT such as 127.0.0.1:8080, got '" + text + "'");
  }

  private static String mountPath(Settings mount) {
    String path = mount.string("path", null);
    if (path == null) {
      throw new IllegalArgumentException(mount.pathOf("path") + ": missing");
    }
    boolean valid = path.equals("/") || (path.startsWith("/") && !path.endsWith("/")
        && path.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '?' && c != '#'));
    if (!valid) {
      throw new IllegalArgumentException(mount.pathOf("path")
          + ": expected / or a prefix such as /app (no trailing slash), got '" + path + "'");
    }
    if (path.contains("//")) {
      throw new IllegalArgumentException(mount.pathOf("path") + ": must not contain //, got '" + path + "'");
    }
    // requests with such segments are refused (400), so such a mount could never match
    if (UndertowHost.hasDotSegment(path)) {
      throw new IllegalArgumentException(mount.pathOf("path") + ": must not have . or .. segments, got '" + path + "'");
    }
    return path;
  }

  private static Path file(Settings settings, String key, Path folder) {
    String name = settings.string(key, null);
    if (name == null) {
      throw new IllegalArgumentException(settings.pathOf(key) + ": missing");
    }
    Path file = folder.resolve(name);
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(settings.pathOf(key) + ": cannot read '" + name + "'");
    }
    return file;
  }

  private static int positive(Settings settings, String key, int fallback) {
    int value = settings.integer(key, fallback);
    if (value < 1) {
      throw new IllegalArgumentException(settings.pathOf(key) + ": must be at least 1, got " + value);
    }
    return value;
  }

  private static long positiveSize(Settings settings, String key, long fallback) {
    long value = settings.size(key, fallback);
    if (value == 0) {
      throw new IllegalArgumentException(settings.pathOf(key) + ": must be more than 0");
    }
    if (value > Integer.MAX_VALUE) {
      Object raw = settings.get(key);
      throw new IllegalArgumentException(settings.pathOf(key) + ": must be at most " + Integer.MAX_VALUE + " bytes, got "
          + (raw instanceof String ? "'" + raw + "'" : raw));
    }
    return value;
  }

  /** Reads {@code maxBodySize}: a size more than 0, or -1 (or no key) for no limit. */
  private static long maxBodySize(Settings limits) {
    Object value = limits.get("maxBodySize");
    if (value == null || value.equals(-1) || value.equals(-1L) || value.equals("-1")) {
      return -1;
    }
    boolean negative = (value instanceof Integer || value instanceof Long) && ((Number) value).longValue() < 0;
    if (negative || limits.size("maxBodySize", -1) == 0) {
      throw new IllegalArgumentException(limits.pathOf("maxBodySize") + ": must be more than 0, or -1 for no limit, got "
          + value);
    }
    return limits.size("maxBodySize", -1);
  }

  private static Duration nonZero(Settings settings, String key, Duration fallback) {
    return Durations.positive(settings, key, fallback);
  }

  private static Map<String, Object> stringKeys(Map<?, ?> map) {
    Map<String, Object> copy = new java.util.LinkedHashMap<>();
    map.forEach((key, value) -> {
      if (value == null) {
        throw new IllegalArgumentException(key + ": has no value");
      }
      copy.put(String.valueOf(key), value);
    });
    return copy;
  }
}
