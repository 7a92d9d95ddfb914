package org.proxykit.undertow;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.proxykit.api.ForwardingHandler;
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.spi.Settings;
import org.proxykit.exact.ExactProxy;

/** The handler types proxykit brings: {@code echo}, {@code exact}, {@code forward}, and those of {@link ProtocolFactories}. */
final class BuiltInFactories {
  private BuiltInFactories() {}

  static List<HandlerFactory> all() {
    return List.of(new Echo(), new Exact(), new Forward(), new ProtocolFactories.App(), new ProtocolFactories.Middleware(),
        new Spawn());
  }

  /** {@code {type: echo}}. */
  static final class Echo implements HandlerFactory {
    @Override
    public String name() {
      return "echo";
    }

    @Override
    public ProxyHandler create(Settings settings, HandlerContext context) {
      settings.checkKnown(Set.of());
      return new EchoHandler();
    }
  }

  /**
   * {@code {type: exact, upstream: http://host:port, transport: NAME, ...transport settings}}:
   * ExactProxy, to the request's own server, or with {@code upstream} to that server for
   * every request (full path, Host kept).
   */
  static final class Exact implements HandlerFactory {
    @Override
    public String name() {
      return "exact";
    }

    @Override
    public ProxyHandler create(Settings settings, HandlerContext context) {
      String upstream = settings.string("upstream", null);
      ProxyRequest target = upstream == null ? null : upstreamOf(settings.pathOf("upstream"), upstream);
      ExactProxy exact = exactProxy(settings.without("upstream"));
      return target == null ? exact : new UpstreamProxy(target, exact);
    }
  }

  /**
   * {@code {type: forward, httpPorts: [80], connectPorts: [443], destinations: {deny: [CIDR..],
   * allow: [CIDR..]}, connectTimeout: 10s, tunnelIdleTimeout: 5m, transport: NAME, ...}}: the
   * forward (browser) proxy; see {@link Destinations} for what it may reach.
   */
  static final class Forward implements HandlerFactory {
    @Override
    public String name() {
      return "forward";
    }

    @Override
    public ProxyHandler create(Settings settings, HandlerContext context) {
      Set<Integer> connectPorts = ports(settings, "connectPorts", "443");
      Set<Integer> httpPorts = ports(settings, "httpPorts", "80");
      Duration connectTimeout = Durations.positive(settings, "connectTimeout", Duration.ofSeconds(10));
      Duration tunnelIdle = Durations.positive(settings, "tunnelIdleTimeout", Duration.ofMinutes(5));
      Destinations destinations = Destinations.of(settings.nested("destinations"));
      ExactProxy exact = exactProxy(settings.without("connectPorts").without("httpPorts").without("tunnelIdleTimeout")
          .without("destinations"));
      return new ForwardProxy(exact, connectPorts, httpPorts, destinations, connectTimeout, tunnelIdle);
    }

    private static Set<Integer> ports(Settings settings, String key, String fallback) {
      Set<Integer> ports = new HashSet<>();
      List<String> listed = settings.has(key) ? settings.strings(key) : List.of(fallback);
      for (int i = 0; i < listed.size(); i++) {
        int port = -1;
        try {
          port = Integer.parseInt(listed.get(i));
        } catch (NumberFormatException e) {
          // reported below
        }
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException(settings.pathOf(key) + "[" + i + "]: expected a port, got '"
              + listed.get(i) + "'");
        }
        ports.add(port);
      }
      return ports;
    }
  }

  /**
   * {@code {type: spawn, command: [argv] or "command line", cwd, env: {..}, cleanEnv, port,
   * startTimeout, readinessPath, idleShutdown, stopTimeout, name, transport settings}}.
   */
  static final class Spawn implements HandlerFactory {
    private static final Set<String> KEYS = Set.of("command", "cwd", "env", "cleanEnv", "port", "startTimeout",
        "readinessPath", "idleShutdown", "stopTimeout", "name");

    @Override
    public String name() {
      return "spawn";
    }

    @Override
    public ProxyHandler create(Settings settings, HandlerContext context) {
      Object raw = settings.get("command");
      List<String> command;
      try {
        command = raw instanceof String ? CommandLineWords.split((String) raw) : settings.strings("command");
      } catch (IllegalArgumentException e) {
        throw e.getMessage().startsWith(settings.path()) ? e
            : new IllegalArgumentException(settings.pathOf("command") + ": " + e.getMessage());
      }
      if (command.isEmpty()) {
        throw new IllegalArgumentException(settings.pathOf("command") + ": missing (the program and its arguments)");
      }
      Settings transport = settings;
      for (String key : KEYS) {
        transport = transport.without(key);
      }
      org.proxykit.spawn.SpawningHandler.Builder spawn = org.proxykit.spawn.SpawningHandler.builder(command);
      try {
        if (settings.has("cwd")) {
          spawn.cwd(context.file(settings.string("cwd", ".")));
        }
        Settings env = settings.nested("env");
        java.util.Map<String, String> variables = new java.util.LinkedHashMap<>();
        for (String key : env.keys()) {
          variables.put(key, env.string(key, ""));
        }
        spawn.env(variables).cleanEnv(settings.bool("cleanEnv", false));
        if (settings.has("port")) {
          spawn.port(settings.integer("port", 0));
        }
        spawn.startTimeout(Durations.bounded(settings, "startTimeout", Duration.ofSeconds(30)));
        spawn.stopTimeout(Durations.bounded(settings, "stopTimeout", Duration.ofSeconds(10)));
        if (settings.has("idleShutdown")) {
          spawn.idleShutdown(Durations.bounded(settings, "idleShutdown", null));
        }
        if (settings.has("readinessPath")) {
          spawn.readinessPath(settings.string("readinessPath", "/"));
        }
        if (settings.has("name")) {
          spawn.name(settings.string("name", "backend"));
        }
      } catch (IllegalArgumentException e) {
        throw e.getMessage().startsWith(settings.path()) ? e
            : new IllegalArgumentException(settings.path() + ": " + e.getMessage());
      }
      ExactProxy exact = exactProxy(transport);
      context.closeOnStop(exact);
      return spawn.exact(exact).build();
    }
  }

  /** The transport settings that are durations; the HTTP client's socket timeouts are int milliseconds. */
  private static final List<String> TRANSPORT_DURATIONS =
      List.of("connectTimeout", "responseTimeout", "poolWaitTimeout", "idleTimeout");

  /** Makes an ExactProxy from {@code transport} (a name) and the transport settings. */
  static ExactProxy exactProxy(Settings settings) {
    for (String key : TRANSPORT_DURATIONS) {
      // HttpClient 5 would quietly cut a longer socket timeout down to Integer.MAX_VALUE ms
      Durations.bounded(settings, key, null);
    }
    ExactProxy.Builder builder = ExactProxy.builder().settings(settings.without("transport"));
    String transport = settings.string("transport", null);
    if (transport != null) {
      builder.transport(transport);
    }
    try {
      return builder.build();
    } catch (IllegalArgumentException e) {
      if (transport != null && e.getMessage().startsWith("no TransportProvider named")) {
        throw new IllegalArgumentException(settings.pathOf("transport") + ": " + e.getMessage());
      }
      throw e;
    }
  }

  static ProxyRequest upstreamOf(String key, String url) {
    ProxyRequest upstream;
    try {
      upstream = ProxyRequest.blank(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + ": " + e.getMessage());
    }
    if (!(upstream.pathInfo().isEmpty() || upstream.pathInfo().equals("/")) || !upstream.queryString().isEmpty()) {
      throw new IllegalArgumentException(key + ": expected scheme://host:port without path or query, got '" + url + "'");
    }
    return upstream;
  }

  /** ExactProxy pointed at one upstream server: full path and Host kept, as ProxyPreserveHost does. */
  static final class UpstreamProxy implements ForwardingHandler, Closeable {
    private final ProxyRequest upstream;
    private final ExactProxy exact;

    UpstreamProxy(ProxyRequest upstream, ExactProxy exact) {
      this.upstream = upstream;
      this.exact = exact;
    }

    @Override
    public ProxyResponse handle(ProxyRequest request) throws IOException {
      return forward(request).send();
    }

    @Override
    public org.proxykit.api.Forward forward(ProxyRequest request) {
      return exact.forward(request.toBuilder()
          .scheme(upstream.scheme())
          .serverName(upstream.serverName())
          .serverPort(upstream.serverPort())
          .build());
    }

    @Override
    public void close() throws IOException {
      exact.close();
    }

    @Override
    public String toString() {
      return exact + " to " + upstream.scheme() + "://" + upstream.header("Host");
    }
  }
}
