package org.proxykit.spawn;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.proxykit.api.Forward;
import org.proxykit.api.ForwardingHandler;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.exact.ExactProxy;
import org.proxykit.protocol.ProxyHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves requests from a backend process it manages itself, the Java form of WSGIProxy's
 * {@code SpawningApplication}. The process (any program that serves HTTP on a port) is
 * started on the first request, on a free port of 127.0.0.1 (or a fixed one) given to it as
 * {@code __PORT__} in its arguments and {@code PORT} in its environment; requests arriving
 * meanwhile wait for it, and only one process is ever started at a time. Once it accepts
 * connections (or answers an HTTP readiness check below 500) requests go to it through an
 * {@link ExactProxy}: full original path, Host kept, the client in X-Forwarded-For, the
 * scheme in X-Forwarded-Scheme and the mount in X-Script-Name.
 *
 * <p><b>Stopping.</b> After {@code idleShutdown} with no request in flight (a response still
 * streaming counts as in flight) the process is stopped, and the next request starts it
 * again; {@link #close()}, the server's shutdown and a JVM shutdown hook stop it too.
 * Stopping sends SIGTERM to the process and everything it started, waits up to
 * {@code stopTimeout}, then SIGKILL. If the JVM itself is killed with SIGKILL, a watchdog in
 * the child's process group notices and stops the group (see {@link ChildProcess}).
 *
 * <p><b>Failures.</b> A process not ready within {@code startTimeout} is stopped and the
 * waiting requests get 503. A process that exits on its own is logged with its exit code
 * and last lines and started again by the next request; one that keeps crashing soon after
 * start is backed off exponentially (1s up to 60s), answering 503 with Retry-After meanwhile.
 *
 * <p>Thread-safe; state changes are logged and readable with {@link #status()}.
 *
 * @since 0.1
 */
public final class SpawningHandler implements ForwardingHandler, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SpawningHandler.class);
  private static final Set<SpawningHandler> LIVE = ConcurrentHashMap.newKeySet();
  private static final Duration STABLE_AFTER = Duration.ofSeconds(10);
  private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(SpawningHandler::close), "proxykit-spawn-stop"));
  }

  private final String name;
  private final List<String> command;
  private final @Nullable Path cwd;
  private final Map<String, String> env;
  private final boolean cleanEnv;
  private final int fixedPort;
  private final Duration startTimeout;
  private final @Nullable String readinessPath;
  private final @Nullable Duration idleShutdown;
  private final Duration stopTimeout;
  private final ExactProxy exact;
  private final boolean ownsExact;
  private final ScheduledExecutorService timer;

  // guarded by this
  private SpawnStatus.State state = SpawnStatus.State.NOT_STARTED;
  private @Nullable ChildProcess child;
  private int port = -1;
  private int restarts = -1;
  private int inFlight;
  private long lastActivity = System.nanoTime();
  private long readyAt;
  private int crashes;
  private long startAllowedAt = System.nanoTime();
  private @Nullable String lastFailure;
  private long startAttempt;
  private long failedAttempt = -1;
  private boolean closed;

  private SpawningHandler(Builder builder) {
    this.name = builder.name != null ? builder.name : Path.of(builder.command.get(0)).getFileName().toString();
    this.command = List.copyOf(builder.command);
    this.cwd = builder.cwd;
    this.env = Map.copyOf(builder.env);
    this.cleanEnv = builder.cleanEnv;
    this.fixedPort = builder.port;
    this.startTimeout = builder.startTimeout;
    this.readinessPath = builder.readinessPath;
    this.idleShutdown = builder.idleShutdown;
    this.stopTimeout = builder.stopTimeout;
    this.ownsExact = builder.exact == null;
    this.exact = builder.exact != null ? builder.exact : ExactProxy.create();
    this.timer = Executors.newSingleThreadScheduledExecutor(task -> {
      Thread thread = new Thread(task, "proxykit-spawn-" + name);
      thread.setDaemon(true);
      return thread;
    });
    if (idleShutdown != null) {
      long period = Math.max(50, idleShutdown.toMillis() / 4);
      timer.scheduleWithFixedDelay(this::stopIfIdle, period, period, TimeUnit.MILLISECONDS);
    }
    LIVE.add(this);
  }

  /**
   * Returns a builder for a handler that runs {@code command} (its arguments may hold
   * {@code __PORT__}).
   *
   * @throws IllegalArgumentException if the command is empty
   */
  public static Builder builder(List<String> command) {
    return new Builder(command);
  }

  @Override
  public ProxyResponse handle(ProxyRequest request) throws IOException {
    return forwardTo(request, acquire()).send();
  }

  /**
   * Forwards directly when the backend is ready (the host sends the request without blocking);
   * otherwise the forward calls {@link #handle}, which starts the backend, where blocking is allowed.
   */
  @Override
  public Forward forward(ProxyRequest request) throws IOException {
    int backendPort = acquireIfReady();
    return backendPort < 0 ? Forward.blocking(request, this::handle) : forwardTo(request, backendPort);
  }

  /** Forwards to the backend on {@code backendPort}, with one request counted in flight until the forward is over. */
  private Forward forwardTo(ProxyRequest request, int backendPort) throws IOException {
    try {
      HttpHeaders.Builder headers = request.headers().toBuilder();
      for (String header : request.headers().names()) {
        // the backend trusts loopback: a client's proxy headers must not reach it as ours
        if (ProxyHeaders.isProxyHeader(header) || header.equalsIgnoreCase(ProxyHeaders.SIGNATURE)
            || header.equalsIgnoreCase(ProxyHeaders.SIGNATURE_INPUT)) {
          headers.remove(header);
        }
      }
      String chain = String.join(", ", request.headers().all("X-Forwarded-For"));
      if (request.remoteAddr() != null) {
        headers.set("X-Forwarded-For", chain.isEmpty() ? request.remoteAddr() : chain + ", " + request.remoteAddr());
      }
      headers.set("X-Forwarded-Scheme", request.scheme());
      headers.set("X-Script-Name", request.scriptName());
      if (request.header("Host") == null) {
        headers.set("Host", request.host());
      }
      return exact.forward(request.toBuilder()
          .scheme("http").serverName("127.0.0.1").serverPort(backendPort).headers(headers.build()).build())
          .whenDone(this::release);
    } catch (RuntimeException e) {
      release();
      throw e;
    }
  }

  /** Counts one request in flight and returns the port if the backend is ready, else returns -1. */
  private synchronized int acquireIfReady() {
    if (closed || state != SpawnStatus.State.READY) {
      return -1;
    }
    inFlight++;
    return port;
  }

  /** Returns a snapshot of the state, pid, port and restart count. */
  public synchronized SpawnStatus status() {
    return new SpawnStatus(state, child == null ? -1 : child.pid(), child == null ? -1 : port, Math.max(0, restarts));
  }

  /** Waits until the process is ready (starting it if need be) and counts one request in flight. */
  private int acquire() throws ProxyStatusException {
    synchronized (this) {
      while (true) {
        if (closed) {
          throw ProxyStatusException.serviceUnavailable("backend " + name + " is shut down", null);
        }
        if (state == SpawnStatus.State.READY) {
          inFlight++;
          return port;
        }
        if (state == SpawnStatus.State.NOT_STARTED) {
          long wait = startAllowedAt - System.nanoTime();
          if (wait > 0) {
            long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(wait + 999_999_999L));
            throw new ProxyStatusException(503, "backend " + name + " keeps crashing; next start in " + seconds + "s",
                HttpHeaders.of("Retry-After", String.valueOf(seconds)), null);
          }
          state = SpawnStatus.State.STARTING;
          startAttempt++;
          break;
        }
        long waitingFor = startAttempt;
        try {
          wait(startTimeout.toMillis() + stopTimeout.toMillis() + 5000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw ProxyStatusException.serviceUnavailable("interrupted while backend " + name + " starts", e);
        }
        if (failedAttempt == waitingFor && state == SpawnStatus.State.NOT_STARTED && lastFailure != null) {
          // the start this request waited for failed: answer with its reason rather than try again at once
          throw ProxyStatusException.serviceUnavailable(lastFailure, null);
        }
      }
    }
    return start();
  }

  /** Starts the process (this thread won the start), waits for readiness, and counts the first request. */
  private int start() throws ProxyStatusException {
    int chosenPort;
    ChildProcess started = null;
    long begin = System.nanoTime();
    String failure;
    try {
      chosenPort = fixedPort > 0 ? fixedPort : freePort();
      List<String> argv = new ArrayList<>();
      for (String argument : command) {
        argv.add(argument.replace("__PORT__", String.valueOf(chosenPort)));
      }
      Map<String, String> environment = new LinkedHashMap<>(env);
      environment.put("PORT", String.valueOf(chosenPort));
      started = ChildProcess.start(name, argv, cwd, environment, cleanEnv, stopTimeout);
      synchronized (this) {
        child = started;
        port = chosenPort;
        restarts++;
      }
      log.info("{}: spawned pid {} on port {}", name, started.pid(), chosenPort);
      failure = awaitReady(started, chosenPort, begin + startTimeout.toNanos());
    } catch (IOException | RuntimeException | Error e) {
      chosenPort = -1;
      failure = "backend " + name + " could not be started: " + e;
    }
    if (failure == null) {
      ChildProcess ready = started;
      synchronized (this) {
        state = SpawnStatus.State.READY;
        readyAt = System.nanoTime();
        lastActivity = readyAt;
        lastFailure = null;
        inFlight++;
        notifyAll();
      }
      log.info("{}: ready on port {} in {} ms (cold start)", name, chosenPort,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
      ready.process().onExit().thenRun(() -> exited(ready));
      return chosenPort;
    }
    log.warn("{}: {}", name, failure);
    if (started != null) {
      started.stop(stopTimeout);
    }
    synchronized (this) {
      child = null;
      state = SpawnStatus.State.NOT_STARTED;
      lastFailure = failure;
      failedAttempt = startAttempt;
      backOff();
      notifyAll();
    }
    throw ProxyStatusException.serviceUnavailable(failure, null);
  }

  /** Returns null once the process is ready, else why it is not. */
  private @Nullable String awaitReady(ChildProcess process, int backendPort, long deadline) {
    for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
      if (!process.isAlive()) {
        return "backend " + name + " exited with code " + process.process().exitValue() + " while starting";
      }
      synchronized (this) {
        if (closed) {
          return "backend " + name + " is shut down";
        }
      }
      if (ready(backendPort)) {
        return null;
      }
      try {
        // often at first, since most servers are up within milliseconds; then every 25 ms
        Thread.sleep(Math.min(25, 1 + attempt / 4));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted while backend " + name + " starts";
      }
    }
    return "backend " + name + " was not ready within " + startTimeout.toMillis() + "ms";
  }

  private boolean ready(int backendPort) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), backendPort), 250);
    } catch (IOException notYet) {
      return false;
    }
    if (readinessPath == null) {
      return true;
    }
    try (ProxyResponse response = exact.handle(ProxyRequest.blank("http://127.0.0.1:" + backendPort + readinessPath))) {
      try (InputStream body = response.body().open()) {
        body.transferTo(java.io.OutputStream.nullOutputStream());
      }
      return response.status() < 500;
    } catch (IOException notYet) {
      return false;
    }
  }

  /** Called when a ready process ends; a stop we asked for is not a crash. */
  private void exited(ChildProcess process) {
    synchronized (this) {
      if (child != process || state != SpawnStatus.State.READY) {
        return;
      }
      state = SpawnStatus.State.STOPPING;
    }
    log.warn("{}: pid {} exited on its own with code {}; last lines:\n  {}", name, process.pid(),
        process.process().exitValue(), String.join("\n  ", process.lastLines()));
    // what it started may still hold the port: stop the group before a new start may begin
    process.stop(stopTimeout);
    synchronized (this) {
      if (System.nanoTime() - readyAt < STABLE_AFTER.toNanos()) {
        backOff();
      } else {
        crashes = 0;
      }
      child = null;
      state = SpawnStatus.State.NOT_STARTED;
      notifyAll();
    }
  }

  /** Delays the next start after a crash soon after start: 1s, 2s, 4s ... up to 60s. */
  private void backOff() {
    crashes++;
    long delay = Math.min(MAX_BACKOFF.toNanos(), FIRST_BACKOFF.toNanos() << Math.min(30, crashes - 1));
    startAllowedAt = System.nanoTime() + delay;
  }

  private void release() {
    synchronized (this) {
      inFlight--;
      lastActivity = System.nanoTime();
    }
  }

  private void stopIfIdle() {
    ChildProcess stopping;
    synchronized (this) {
      if (state != SpawnStatus.State.READY || inFlight > 0 || idleShutdown == null
          || System.nanoTime() - lastActivity < idleShutdown.toNanos()) {
        return;
      }
      state = SpawnStatus.State.STOPPING;
      stopping = child;
      if (System.nanoTime() - readyAt >= STABLE_AFTER.toNanos()) {
        crashes = 0;
      }
    }
    log.info("{}: idle for {}, stopping pid {}", name, idleShutdown, stopping == null ? -1 : stopping.pid());
    stopChild(stopping);
  }

  private void stopChild(@Nullable ChildProcess stopping) {
    if (stopping != null) {
      stopping.stop(stopTimeout);
    }
    synchronized (this) {
      if (child == stopping) {
        child = null;
      }
      state = SpawnStatus.State.NOT_STARTED;
      notifyAll();
    }
  }

  /**
   * Stops the process (waiting up to the stop timeout, then killing it) and refuses further
   * requests with 503. Safe to call from any thread, more than once.
   */
  @Override
  public void close() {
    ChildProcess stopping;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      state = child == null ? SpawnStatus.State.NOT_STARTED : SpawnStatus.State.STOPPING;
      stopping = child;
      notifyAll();
    }
    LIVE.remove(this);
    timer.shutdownNow();
    if (stopping != null) {
      log.info("{}: stopping pid {}", name, stopping.pid());
    }
    stopChild(stopping);
    if (ownsExact) {
      try {
        exact.close();
      } catch (IOException e) {
        log.debug("closing the exact proxy failed", e);
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  @Override
  public String toString() {
    return "spawn " + command + (idleShutdown == null ? "" : ", idle shutdown " + idleShutdown);
  }


  /** Configures a {@link SpawningHandler}. */
  public static final class Builder {
    private final List<String> command;
    private @Nullable String name;
    private @Nullable Path cwd;
    private final Map<String, String> env = new LinkedHashMap<>();
    private boolean cleanEnv;
    private int port;
    private Duration startTimeout = Duration.ofSeconds(30);
    private @Nullable String readinessPath;
    private @Nullable Duration idleShutdown;
    private Duration stopTimeout = Duration.ofSeconds(10);
    private @Nullable ExactProxy exact;

    private Builder(List<String> command) {
      if (command.isEmpty() || command.get(0).isBlank()) {
        throw new IllegalArgumentException("command: must name a program");
      }
      this.command = Collections.unmodifiableList(new ArrayList<>(command));
    }

    /** Sets the name used in logs; default the program's file name. */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Sets the working directory; default proxykit's. */
    public Builder cwd(Path cwd) {
      this.cwd = Objects.requireNonNull(cwd, "cwd");
      return this;
    }

    /** Adds environment variables (PORT is always set). */
    public Builder env(Map<String, String> env) {
      this.env.putAll(env);
      return this;
    }

    /** Starts from an empty environment (PATH kept) instead of proxykit's. */
    public Builder cleanEnv(boolean clean) {
      this.cleanEnv = clean;
      return this;
    }

    /** Uses this port instead of a free one. */
    public Builder port(int port) {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port: must be 1-65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /** Sets how long the process may take to become ready; default 30s. */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = Objects.requireNonNull(timeout, "startTimeout");
      return this;
    }

    /** Checks readiness with a GET of {@code path} that must answer below 500, after the TCP connect; default TCP only. */
    public Builder readinessPath(String path) {
      if (!path.startsWith("/")) {
        throw new IllegalArgumentException("readiness path must start with /, got '" + path + "'");
      }
      ProxyRequest.blank("http://127.0.0.1" + path);  // refuses what could not be requested
      this.readinessPath = path;
      return this;
    }

    /** Stops the process after this long with no request in flight; default never. */
    public Builder idleShutdown(Duration idle) {
      this.idleShutdown = Objects.requireNonNull(idle, "idleShutdown");
      return this;
    }

    /** Sets the grace between SIGTERM and SIGKILL; default 10s. */
    public Builder stopTimeout(Duration timeout) {
      this.stopTimeout = Objects.requireNonNull(timeout, "stopTimeout");
      return this;
    }

    /** Sends with {@code exact}, which stays the caller's; default a new ExactProxy. */
    public Builder exact(ExactProxy exact) {
      this.exact = Objects.requireNonNull(exact, "exact");
      return this;
    }

    /** Returns the handler; nothing starts until the first request. */
    public SpawningHandler build() {
      return new SpawningHandler(this);
    }
  }
}
