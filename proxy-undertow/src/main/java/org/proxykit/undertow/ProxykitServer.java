package org.proxykit.undertow;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import io.undertow.server.protocol.http.AlpnOpenListener;
import io.undertow.server.protocol.http.HttpOpenListener;
import io.undertow.server.protocol.http2.Http2OpenListener;
import io.undertow.server.protocol.http2.Http2UpgradeHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.proxykit.api.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

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
  private @Nullable XnioWorker worker;
  private List<AcceptingChannel<? extends StreamConnection>> channels = List.of();
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
    if (worker != null) {
      return this;
    }
    GracefulShutdownHandler root = new GracefulShutdownHandler(accessLog.wrap(new UndertowHost(mounts, direct)));
    Xnio xnio = Xnio.getInstance(Undertow.class.getClassLoader());
    List<AcceptingChannel<? extends StreamConnection>> bound = new ArrayList<>();
    XnioWorker started;
    try {
      started = xnio.createWorker(OptionMap.builder()
          .set(Options.WORKER_IO_THREADS, Math.max(Runtime.getRuntime().availableProcessors(), 2))
          .set(Options.CONNECTION_HIGH_WATER, 1_000_000)
          .set(Options.CONNECTION_LOW_WATER, 1_000_000)
          .set(Options.WORKER_TASK_CORE_THREADS, config.workerThreads())
          .set(Options.WORKER_TASK_MAX_THREADS, config.workerThreads())
          .set(Options.TCP_NODELAY, true)
          .set(Options.CORK, true)
          .getMap());
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the server's threads: " + e.getMessage(), e);
    }
    try {
      Listeners listeners = new Listeners(xnio, started, root);
      for (ProxykitConfig.Listener listener : config.listeners()) {
        bound.add(listeners.bind(listener));
      }
    } catch (IOException | RuntimeException e) {
      bound.forEach(IoUtils::safeClose);
      started.shutdownNow();
      throw new IllegalStateException("cannot listen on " + config.listeners() + ": " + rootMessage(e), e);
    }
    List<URI> addresses = new ArrayList<>();
    for (AcceptingChannel<? extends StreamConnection> channel : bound) {
      InetSocketAddress address = channel.getLocalAddress(InetSocketAddress.class);
      String host = address.getAddress().getHostAddress();
      addresses.add(URI.create((tls != null ? "https" : "http") + "://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host)
          + ":" + address.getPort()));
    }
    this.worker = started;
    this.channels = List.copyOf(bound);
    this.graceful = root;
    this.urls = Collections.unmodifiableList(addresses);
    return this;
  }

  /**
   * Undertow's listeners as {@code Undertow.start()} makes them, with one difference: every
   * accepted connection gets a {@link RequestGuardConduit} under the HTTP/1.x parser first.
   * Plain listeners offer h2c (upgrade and prior knowledge) when HTTP/2 is on, TLS listeners
   * ALPN h2.
   */
  private final class Listeners {
    private final XnioWorker worker;
    private final OptionMap socketOptions;
    private final ChannelListener<StreamConnection> openListener;
    private final @Nullable UndertowXnioSsl ssl;

    Listeners(Xnio xnio, XnioWorker worker, HttpHandler root) {
      this.worker = worker;
      ProxykitConfig.Limits limits = config.limits();
      this.socketOptions = OptionMap.builder()
          .set(Options.WORKER_IO_THREADS, worker.getIoThreadCount())
          .set(Options.TCP_NODELAY, true)
          .set(Options.REUSE_ADDRESSES, true)
          .set(Options.BALANCING_TOKENS, 1)
          .set(Options.BALANCING_CONNECTIONS, 2)
          .set(Options.BACKLOG, 1000)
          // a client that stops reading its answer for this long is cut off (nginx's send_timeout is
          // 60s): else it would hold the upstream connection the answer comes from
          .set(Options.WRITE_TIMEOUT, Durations.millis(limits.bodyTimeout()))
          .getMap();
      // the guard enforces the head limits and all timeouts of HTTP/1.x connections itself, before
      // Undertow parses a byte; Undertow's own limits sit above the guard's so they never come first
      OptionMap http1 = OptionMap.builder()
          // answers to pipelined requests are written at once: buffered, the answer to a request that closes
          // the connection (a refusal) would be dropped with the requests behind it
          .set(UndertowOptions.BUFFER_PIPELINED_DATA, false)
          .set(UndertowOptions.ENABLE_HTTP2, config.http2())
          .set(UndertowOptions.MAX_HEADER_SIZE, (int) Math.min(Integer.MAX_VALUE, limits.maxHeaderSize() + 1024))
          .set(UndertowOptions.MAX_HEADERS, limits.maxHeaders() + 8)
          .set(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
          // Undertow's own default would refuse bodies over a few MiB: no limit unless one is configured.
          // On HTTP/1.x the guard refuses (413) before Undertow would, which would close without a word.
          .set(UndertowOptions.MAX_ENTITY_SIZE, limits.maxBodySize() > 0 ? limits.maxBodySize() : Long.MAX_VALUE)
          .getMap();
      ByteBufferPool buffers = new DefaultByteBufferPool(true, 16 * 1024, -1, 4);
      HttpOpenListener http = new HttpOpenListener(buffers, http1);
      RequestGuardConduit.Limits guard = new RequestGuardConduit.Limits(limits);
      if (tls == null) {
        http.setRootHandler(config.http2() ? new Http2UpgradeHandler(root) : root);
        this.openListener = RequestGuardConduit.installing(guard, http);
        this.ssl = null;
        return;
      }
      http.setRootHandler(root);
      if (config.http2()) {
        // HTTP/2 streams are framed by Undertow's HTTP/2 parser, which keeps its own timeouts
        OptionMap h2 = OptionMap.builder().addAll(http1)
            .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, Durations.millis(limits.headerTimeout()))
            .set(UndertowOptions.NO_REQUEST_TIMEOUT, Durations.millis(limits.idleTimeout()))
            .getMap();
        Http2OpenListener http2 = new Http2OpenListener(buffers, h2);
        http2.setRootHandler(root);
        AlpnOpenListener alpn = new AlpnOpenListener(buffers, http1, http);
        alpn.addProtocol(Http2OpenListener.HTTP2, http2, 10);
        this.openListener = RequestGuardConduit.installing(guard, alpn);
      } else {
        this.openListener = RequestGuardConduit.installing(guard, http);
      }
      this.ssl = new UndertowXnioSsl(xnio, OptionMap.create(Options.USE_DIRECT_BUFFERS, true), tls);
    }

    AcceptingChannel<? extends StreamConnection> bind(ProxykitConfig.Listener listener) throws IOException {
      InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(listener.host()), listener.port());
      AcceptingChannel<? extends StreamConnection> channel;
      if (ssl == null) {
        channel = worker.createStreamConnectionServer(address, ChannelListeners.openListenerAdapter(openListener),
            socketOptions);
      } else {
        channel = ssl.createSslConnectionServer(worker, address, ChannelListeners.openListenerAdapter(openListener),
            socketOptions);
      }
      channel.resumeAccepts();
      return channel;
    }
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
    XnioWorker threads;
    List<AcceptingChannel<? extends StreamConnection>> listening;
    GracefulShutdownHandler root;
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
      threads = worker;
      listening = channels;
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
    listening.forEach(IoUtils::safeClose);
    if (threads != null) {
      threads.shutdownNow();
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
