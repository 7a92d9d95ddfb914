package org.proxykit.undertow;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.proxykit.api.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.Options;

/**
 * A running proxykit server: Undertow listeners serving the mounted handlers. Get one from
 * {@link Proxykit#createInjector}, then {@link #start()}; {@link #close()} drains in-flight
 * requests for the configured grace period, stops the listeners and closes the handlers'
 * resources (connection pools, spawned processes).
 *
 * @since 0.1
 */
public final class ProxykitServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProxykitServer.class);

  private final ProxykitConfig config;
  private final MountTable mounts;
  private final AccessLog accessLog;
  private final DirectForwarder direct = new DirectForwarder();
  private final List<AutoCloseable> resources;
  private final @Nullable SSLContext tls;
  private @Nullable Undertow undertow;
  private @Nullable GracefulShutdownHandler graceful;
  private List<URI> urls = List.of();
  private boolean stopped;

  ProxykitServer(ProxykitConfig config, @Nullable SSLContext tls, MountTable mounts, AccessLog accessLog,
      List<AutoCloseable> resources) {
    this.config = config;
    this.tls = tls;
    this.mounts = mounts;
    this.accessLog = accessLog;
    this.resources = List.copyOf(resources);
  }

  /** Returns what sends direct forwards, for tests that check it leaks nothing. */
  DirectForwarder directForwarder() {
    return direct;
  }

  /**
   * Binds every listener and starts serving.
   *
   * @throws IllegalStateException if the server was stopped, or a listener cannot bind (the message says which)
   */
  public synchronized ProxykitServer start() {
    if (stopped) {
      throw new IllegalStateException("a stopped server cannot start again");
    }
    if (undertow != null) {
      return this;
    }
    GracefulShutdownHandler root = new GracefulShutdownHandler(accessLog.wrap(new UndertowHost(mounts, direct)));
    Undertow server = builder(root).build();
    try {
      server.start();
    } catch (RuntimeException e) {
      server.stop();
      throw new IllegalStateException("cannot listen on " + config.listeners() + ": " + rootMessage(e), e);
    }
    List<URI> bound = new ArrayList<>();
    for (Undertow.ListenerInfo listener : server.getListenerInfo()) {
      InetSocketAddress address = (InetSocketAddress) listener.getAddress();
      String host = address.getAddress().getHostAddress();
      bound.add(URI.create(listener.getProtcol() + "://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host)
          + ":" + address.getPort()));
    }
    this.undertow = server;
    this.graceful = root;
    this.urls = Collections.unmodifiableList(bound);
    return this;
  }

  private Undertow.Builder builder(HttpHandler root) {
    ProxykitConfig.Limits limits = config.limits();
    Undertow.Builder builder = Undertow.builder()
        .setWorkerThreads(config.workerThreads())
        .setHandler(root)
        .setServerOption(UndertowOptions.ENABLE_HTTP2, config.http2())
        .setServerOption(UndertowOptions.MAX_HEADER_SIZE, (int) Math.min(Integer.MAX_VALUE, limits.maxHeaderSize()))
        .setServerOption(UndertowOptions.MAX_HEADERS, limits.maxHeaders())
        .setServerOption(UndertowOptions.REQUEST_PARSE_TIMEOUT, Durations.millis(limits.headerTimeout()))
        .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, Durations.millis(limits.idleTimeout()))
        .setServerOption(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
        .setSocketOption(Options.TCP_NODELAY, true)
        // a blocking read of the request body fails after this long without a byte: 408
        .setSocketOption(Options.READ_TIMEOUT, Durations.millis(limits.bodyTimeout()));
    // Undertow's own default would refuse bodies over a few MiB: no limit unless one is configured
    builder.setServerOption(UndertowOptions.MAX_ENTITY_SIZE, limits.maxBodySize() > 0 ? limits.maxBodySize() : Long.MAX_VALUE);
    for (ProxykitConfig.Listener listener : config.listeners()) {
      if (tls != null) {
        builder.addHttpsListener(listener.port(), listener.host(), tls);
      } else {
        builder.addHttpListener(listener.port(), listener.host());
      }
    }
    return builder;
  }

  /** Returns the URL of each listener, with the real port when 0 was asked; empty before start. */
  public synchronized List<URI> urls() {
    return urls;
  }

  /** Returns the configuration this server runs. */
  public ProxykitConfig config() {
    return config;
  }

  /**
   * Stops taking requests (new ones get 503), waits up to the shutdown grace for in-flight
   * requests to finish, closes the listeners and then the handlers' resources. Idempotent.
   */
  @Override
  public void close() {
    Undertow server;
    GracefulShutdownHandler root;
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
      server = undertow;
      root = graceful;
    }
    if (root != null) {
      root.shutdown();
      try {
        if (!root.awaitShutdown(config.shutdownGrace().toMillis())) {
          log.warn("requests still in flight after the shutdown grace of {}: closing anyway", config.shutdownGrace());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    direct.close();
    if (server != null) {
      server.stop();
    }
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        log.warn("closing {} failed: {}", resources.get(i), e.toString());
      }
    }
    accessLog.close();
  }

  /** Returns the mounts and their handlers, one per line, as {@code proxykit check} prints them. */
  public String describe() {
    StringBuilder text = new StringBuilder();
    for (ProxykitConfig.Listener listener : config.listeners()) {
      text.append("listen ").append(config.tls() != null ? "https" : "http").append("://").append(listener)
          .append(config.http2() ? " (http/1.1, h2)" : " (http/1.1)").append('\n');
    }
    for (MountTable.Entry entry : mounts.entries()) {
      text.append("mount ").append(entry.prefix()).append(" -> ").append(entry.handler()).append('\n');
    }
    return text.toString();
  }

  private static String rootMessage(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.toString() : root.getMessage();
  }

  @Override
  public String toString() {
    return "ProxykitServer" + (urls.isEmpty() ? config.listeners() : urls);
  }
}
