package org.proxykit.undertow.cli;

import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.proxykit.undertow.ConfigException;
import org.proxykit.undertow.Proxykit;
import org.proxykit.undertow.ProxykitConfig;
import org.proxykit.undertow.ProxykitServer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code proxykit serve}: runs a server from a config file or from one of the quick forms,
 * until SIGTERM or Ctrl-C, then drains in-flight requests and exits 0.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs proxykit until SIGTERM or Ctrl-C, then drains in-flight requests and exits 0.",
        "Either --config FILE, or --listen HOST:PORT with one of --href URL, --forward, --spawn COMMAND, --echo."})
final class ServeCommand implements Callable<Integer> {

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  /** Where the configuration comes from. */
  static final class Source {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file")
    Path config;

    @ArgGroup(exclusive = false)
    Quick quick;
  }

  /** The quick forms: one listener, one handler at /. */
  static final class Quick {
    @Option(names = "--listen", paramLabel = "HOST:PORT", required = true, description = "address to listen on (port 0: any free port)")
    String listen;

    @ArgGroup(exclusive = true, multiplicity = "1")
    QuickHandler handler;
  }

  /** The handler of a quick form. */
  static final class QuickHandler {
    @Option(names = "--href", paramLabel = "URL", description = "reverse proxy to this base URL with ProxyApp (X-Forwarded-* and X-Traversal-* headers, unsigned)")
    String href;

    @Option(names = "--forward", description = "be a forward proxy (HTTP proxy for browsers and curl -x; not to loopback or link-local addresses)")
    boolean forward;

    @Option(names = "--spawn", paramLabel = "COMMAND",
        description = "start COMMAND on the first request (__PORT__ is replaced by its port) and proxy to it")
    String spawn;

    @Option(names = "--echo", description = "answer every request with the request as JSON")
    boolean echo;
  }

  @Mixin
  ProxykitCommand.LogLevel logLevel;

  @Override
  public Integer call() throws Exception {
    ProxykitConfig config = source.config != null ? ProxykitConfig.load(source.config) : quickConfig();
    ProxykitServer server = Proxykit.server(config);
    CountDownLatch stop = new CountDownLatch(1);
    Signals.onTerminate(stop::countDown);
    Thread hook = new Thread(server::close, "proxykit-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      server.start();
    } catch (IllegalStateException e) {
      Runtime.getRuntime().removeShutdownHook(hook);
      server.close();
      throw e;
    }
    for (URI url : server.urls()) {
      System.out.println("proxykit listening on " + url);
    }
    System.out.flush();
    stop.await();
    server.close();
    return 0;
  }

  private ProxykitConfig quickConfig() {
    ProxykitConfig.Listener listener;
    try {
      listener = ProxykitConfig.listener("--listen", source.quick.listen);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    Map<String, Object> handler = new LinkedHashMap<>();
    if (source.quick.handler.forward) {
      handler.put("type", "forward");
    } else if (source.quick.handler.echo) {
      handler.put("type", "echo");
    } else if (source.quick.handler.spawn != null) {
      handler.put("type", "spawn");
      handler.put("command", source.quick.handler.spawn);
    } else {
      handler.put("type", "app");
      handler.put("href", source.quick.handler.href);
    }
    return ProxykitConfig.quick(listener, handler);
  }
}
