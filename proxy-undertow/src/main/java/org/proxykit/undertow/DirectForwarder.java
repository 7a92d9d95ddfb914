package org.proxykit.undertow;

import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.client.ClientExchange;
import io.undertow.client.ClientRequest;
import io.undertow.client.ClientResponse;
import io.undertow.client.UndertowClient;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpContinue;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.proxykit.api.Body;
import org.proxykit.api.Forward;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.ProxyStatusException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSinkChannel;

/**
 * Sends {@linkplain Forward#direct() direct} forwards of plain-http requests with Undertow's
 * own HTTP client on the I/O thread that received the request, so no thread waits on the
 * upstream and no request changes threads: the request and response bodies stream between
 * the two connections as each side can take them.
 *
 * <p>It keeps the exact proxy's contract: the request goes out as {@link Forward#request()}
 * says with framing recomputed (Content-Length when the client gave one, chunked otherwise),
 * the answer passes through {@link Forward#answer}, ambiguous framing in the answer is a 502,
 * and failures and timeouts get the transport's own answers from {@link Forward.Direct}. A
 * client body that fails part way never reaches the upstream as complete: the upstream
 * connection is closed without the last chunk. Requests that are not idempotent are never
 * sent twice; an idempotent one whose reused connection turned out closed is sent once more on
 * a new connection, and one answered with an interim 1xx (which Undertow's client takes for the
 * final answer) is sent again the blocking way. An answer that comes before the whole upload
 * stops the upload and closes the client connection after it. The silence watchdog counts only
 * waits on the upstream; a client that stops reading is cut off by the server's write timeout.
 *
 * <p>Connections are pooled per I/O thread and route ({@code host:port}), at most
 * {@code maxConnectionsPerRoute / ioThreads} (at least 1) per thread; requests over the limit
 * wait up to the pool wait timeout (503 after). Everything about a request happens on its I/O
 * thread, so the pool needs no lock.
 */
final class DirectForwarder {
  private static final Logger log = LoggerFactory.getLogger(DirectForwarder.class);
  private static final OptionMap CLIENT_OPTIONS = OptionMap.builder()
      .set(Options.TCP_NODELAY, true)
      .set(Options.KEEP_ALIVE, true)
      .getMap();

  private final ThreadLocal<Pool> pools = new ThreadLocal<>();
  private final ConcurrentLinkedQueue<Pool> allPools = new ConcurrentLinkedQueue<>();
  private final AtomicInteger inFlight = new AtomicInteger();

  /** Returns true if this forwarder can send {@code forward}: direct, and plain http. */
  static boolean canSend(Forward forward) {
    return forward.direct() && forward.request().scheme().equals("http");
  }

  /** Returns how many requests are being forwarded now: 0 when idle, for leak checks. */
  int inFlight() {
    return inFlight.get();
  }

  /** Returns how many upstream connections are open, idle or busy, on every I/O thread. */
  int openConnections() {
    int open = 0;
    for (Pool pool : allPools) {
      open += pool.open.get();
    }
    return open;
  }

  /**
   * Sends {@code forward} for {@code exchange}; called on the exchange's I/O thread.
   * {@code fallback} serves the exchange the blocking way instead, for an answer this client
   * cannot pass on (an interim one) to a request that may be sent again.
   */
  void send(HttpServerExchange exchange, Forward forward, Runnable fallback) {
    Pool pool = pools.get();
    if (pool == null) {
      pool = new Pool(exchange.getIoThread(), exchange.getConnection().getWorker().getIoThreadCount());
      pools.set(pool);
      allPools.add(pool);
    }
    new Call(exchange, forward, pool, fallback).start();
  }

  /** Closes every idle pooled connection; busy ones close as their exchanges end or fail. */
  void close() {
    for (Pool pool : allPools) {
      pool.ioThread.execute(pool::closeIdle);
    }
  }

  /** The connections of one I/O thread, by route. Touched only on that thread. */
  private static final class Pool {
    final XnioIoThread ioThread;
    final int ioThreads;
    final Map<String, Route> routes = new HashMap<>();
    final AtomicInteger open = new AtomicInteger();

    Pool(XnioIoThread ioThread, int ioThreads) {
      this.ioThread = ioThread;
      this.ioThreads = Math.max(1, ioThreads);
    }

    Route route(ProxyRequest request) {
      String key = request.serverName() + ':' + request.serverPort();
      return routes.computeIfAbsent(key, k -> new Route());
    }

    void closeIdle() {
      for (Route route : routes.values()) {
        for (ClientConnection connection; (connection = route.idle.pollLast()) != null; ) {
          abort(connection);
        }
      }
    }
  }

  private static final class Route {
    final ArrayDeque<ClientConnection> idle = new ArrayDeque<>();
    final ArrayDeque<Call> waiting = new ArrayDeque<>();
    int busy;
  }

  /** One forwarded request, from choosing a connection to the end of the response body. */
  private final class Call implements Pump.Listener {
    private final HttpServerExchange exchange;
    private final Forward forward;
    private final Forward.Direct limits;
    private final ProxyRequest request;
    private final Pool pool;
    private final Route route;
    private final Runnable fallback;
    private final long timeoutNanos;
    private @Nullable ClientConnection connection;
    private boolean reused;
    private boolean connectTimedOut;
    private boolean retried;
    private boolean finished;
    private boolean requestSent;
    private boolean responseArrived;
    private boolean handedOff;
    private boolean abortedOnPurpose;
    private boolean responseEnded;
    private @Nullable ProxyResponse clientAnswer;
    private @Nullable Pump upload;
    private @Nullable StreamSinkChannel uploadSink;
    private @Nullable StreamSinkChannel responseSink;
    private @Nullable Pump download;
    private @Nullable XnioExecutor.Key timer;
    private long lastProgressAt;
    private long lastMoved;

    Call(HttpServerExchange exchange, Forward forward, Pool pool, Runnable fallback) {
      this.exchange = exchange;
      this.fallback = fallback;
      this.forward = forward;
      this.limits = forward.limits();
      this.request = forward.request();
      this.pool = pool;
      this.route = pool.route(request);
      this.timeoutNanos = limits.responseTimeout().toNanos();
    }

    void start() {
      inFlight.incrementAndGet();
      exchange.addExchangeCompleteListener((ended, next) -> {
        // the response's end completes the exchange while it is flushed; else the client went away
        finish(responseEnded);
        next.proceed();
      });
      acquire();
    }

    private void acquire() {
      for (ClientConnection idle; (idle = route.idle.pollLast()) != null; ) {
        if (idle.isOpen()) {
          route.busy++;
          reused = true;
          sendOn(idle);
          return;
        }
      }
      int limit = Math.max(1, limits.maxConnectionsPerRoute() / pool.ioThreads);
      if (route.busy < limit) {
        route.busy++;
        connect();
        return;
      }
      route.waiting.add(this);
      schedule(limits.poolWaitTimeout().toMillis(), () -> {
        if (route.waiting.remove(this)) {
          fail(limits.poolExhausted());
        }
      });
    }

    private void connect() {
      reused = false;
      connectTimedOut = false;
      String name = request.serverName();
      int port = request.serverPort();
      // the connect timeout covers the name lookup too
      schedule(limits.connectTimeout().toMillis(), () -> {
        connectTimedOut = true;
        connectFailed(limits.connectTimedOut());
      });
      if (isAddressLiteral(name)) {
        connectTo(new InetSocketAddress(name, port));
        return;
      }
      // a name lookup may block: do it on a worker thread, connect back on the I/O thread
      exchange.getConnection().getWorker().execute(() -> {
        try {
          InetAddress address = InetAddress.getByName(name);
          pool.ioThread.execute(() -> connectTo(new InetSocketAddress(address, port)));
        } catch (IOException | RuntimeException e) {
          pool.ioThread.execute(() -> {
            if (!connectTimedOut) {
              cancelTimer();
              connectFailed(limits.failure(request, e));
            }
          });
        }
      });
    }

    private void connectTo(InetSocketAddress address) {
      if (connectTimedOut) {
        return;  // its slot went with the 504
      }
      if (finished) {
        releaseSlot();
        return;
      }
      URI uri = URI.create("http://" + (address.getAddress().getHostAddress().indexOf(':') >= 0
          ? "[" + address.getAddress().getHostAddress() + "]" : address.getAddress().getHostAddress())
          + ":" + address.getPort());
      UndertowClient.getInstance().connect(new ClientCallback<ClientConnection>() {
        @Override
        public void completed(ClientConnection result) {
          pool.open.incrementAndGet();
          result.getCloseSetter().set(closed -> {
            pool.open.decrementAndGet();
            route.idle.remove(closed);
          });
          if (connectTimedOut) {
            IoUtils.safeClose(result);
            return;
          }
          if (finished) {
            IoUtils.safeClose(result);
            releaseSlot();
            return;
          }
          cancelTimer();
          sendOn(result);
        }

        @Override
        public void failed(IOException e) {
          if (!connectTimedOut) {
            cancelTimer();
            connectFailed(limits.failure(request, e));
          }
        }
      }, null, uri, pool.ioThread, null, exchange.getConnection().getByteBufferPool(), CLIENT_OPTIONS);
    }

    /**
     * Aborts the upstream connection on purpose: the failure its closing reports (at once, from
     * inside the close) is then not taken for the upstream's.
     */
    private void abortUpstream() {
      abortedOnPurpose = true;
      abort(connection);
    }

    /** Gives back the connection slot this call took for a connection it will not use. */
    private void releaseSlot() {
      route.busy--;
      handOver();
    }

    private void connectFailed(ProxyStatusException failure) {
      if (connection == null && !finished) {
        releaseSlot();
      }
      fail(failure);
    }

    private void sendOn(ClientConnection chosen) {
      connection = chosen;
      ClientRequest outbound = new ClientRequest()
          .setMethod(HttpString.tryFromString(request.method()))
          .setPath(request.requestTarget());
      HeaderMap headers = outbound.getRequestHeaders();
      request.headers().forEach((name, value) -> headers.add(HttpString.tryFromString(name), value));
      long length = exchange.getRequestContentLength();
      boolean hasBody = length > 0 || length < 0 && !exchange.isRequestComplete();
      headers.remove(Headers.TRANSFER_ENCODING);
      if (hasBody && length < 0) {
        headers.remove(Headers.CONTENT_LENGTH);
        headers.put(Headers.TRANSFER_ENCODING, "chunked");
      } else if (!hasBody && limits.framesEmptyBody(request.method())) {
        headers.put(Headers.CONTENT_LENGTH, "0");
      } else if (!hasBody) {
        headers.remove(Headers.CONTENT_LENGTH);
      }
      if (HttpContinue.requiresContinueResponse(exchange)) {
        // the client waits for a go-ahead before its body: give it now, the upstream gets the body without asking
        headers.remove(Headers.EXPECT);
        HttpContinue.sendContinueResponse(exchange, new io.undertow.io.IoCallback() {
          @Override
          public void onComplete(HttpServerExchange ended, io.undertow.io.Sender sender) {
            // nothing to do: the body follows
          }

          @Override
          public void onException(HttpServerExchange ended, io.undertow.io.Sender sender, IOException e) {
            clientFailed(e);
          }
        });
      }
      lastProgressAt = System.nanoTime();
      watch();
      chosen.sendRequest(outbound, new ClientCallback<ClientExchange>() {
        @Override
        public void completed(ClientExchange sent) {
          sent.setResponseListener(new ClientCallback<ClientExchange>() {
            @Override
            public void completed(ClientExchange answered) {
              respond(answered);
            }

            @Override
            public void failed(IOException e) {
              upstreamFailed(e);
            }
          });
          if (hasBody) {
            uploadSink = sent.getRequestChannel();
            RequestGuardConduit guard = RequestGuardConduit.of(exchange);
            upload = new Pump(exchange.getRequestChannel(), uploadSink,
                exchange.getConnection().getByteBufferPool().allocate(), Call.this,
                guard == null ? Pump.SourceCheck.NONE : guard::bodyFailure);
            upload.start();
          } else {
            requestSent = true;
          }
        }

        @Override
        public void failed(IOException e) {
          upstreamFailed(e);
        }
      });
    }

    @Override
    public void ended(Pump pump) {
      boolean upstreamSide = pump == upload;
      responseEnded |= !upstreamSide;
      if (!upstreamSide) {
        stopUnfinishedUpload();
      }
      StreamSinkChannel sink = upstreamSide ? uploadSink : responseSink;
      try {
        sink.shutdownWrites();
        if (!sink.flush()) {
          sink.getWriteSetter().set(channel -> {
            try {
              if (channel.flush()) {
                channel.suspendWrites();
                channel.getWriteSetter().set(null);
                sinkEnded(upstreamSide);
              }
            } catch (IOException e) {
              channel.suspendWrites();
              failed(pump, e, false);
            }
          });
          sink.resumeWrites();
          return;
        }
      } catch (IOException e) {
        failed(pump, e, false);
        return;
      }
      sinkEnded(upstreamSide);
    }

    private void sinkEnded(boolean upstreamSide) {
      if (upstreamSide) {
        requestSent = true;
      } else {
        finish(true);
        exchange.endExchange();  // completes it also when the client's body was left unread
      }
    }

    /**
     * The upstream answered before it had the whole request body: stop sending it (the
     * upstream connection is not reused) and let the client connection close after the answer,
     * since the rest of the body will not be read. Undertow then ends the exchange itself.
     */
    private void stopUnfinishedUpload() {
      if (upload != null && !requestSent) {
        upload.stop();
        exchange.setPersistent(false);
      }
    }

    @Override
    public void failed(Pump pump, Exception failure, boolean onSource) {
      boolean clientSide = pump == upload ? onSource : !onSource;
      if (clientSide) {
        clientFailed(failure);
      } else {
        upstreamFailed(failure instanceof IOException ? (IOException) failure : new IOException(failure));
      }
    }

    private void respond(ClientExchange answered) {
      responseArrived = true;
      ClientResponse response = answered.getResponse();
      if (response.getResponseCode() < 200) {
        // Undertow's client takes an interim answer (103 Early Hints, 102) for the final one and
        // loses what follows: never pass it on as final; an idempotent request without a body
        // goes again through the blocking transport, which skips interim answers
        // (finishing aborts the upstream connection; its failure callback then finds the call finished)
        if (limits.maySendAgain(request.method()) && upload == null) {
          handedOff = true;
          finish(false);
          fallback.run();
        } else {
          fail(limits.failure(request, new IOException("interim answer " + response.getResponseCode()
              + " to a request that cannot be sent again")));
        }
        return;
      }
      HeaderMap received = response.getResponseHeaders();
      ProxyStatusException refused = framingRefusal(received);
      if (refused != null) {
        fail(refused);
        return;
      }
      HttpHeaders.Builder headers = HttpHeaders.builder();
      for (HeaderValues values : received) {
        for (String value : values) {
          headers.add(values.getHeaderName().toString(), value);
        }
      }
      String length = received.getFirst(Headers.CONTENT_LENGTH);
      boolean chunked = received.contains(Headers.TRANSFER_ENCODING);
      long bodyLength = chunked || length == null ? -1 : Long.parseLong(length.split(",")[0].strip());
      ProxyResponse passed;
      try {
        passed = forward.answer(ProxyResponse.builder()
            .status(response.getResponseCode())
            .reason(response.getStatus() == null ? "" : response.getStatus())
            .headers(headers.build())
            .body(Body.of(java.io.InputStream.nullInputStream(), bodyLength < 0 ? -1 : bodyLength))
            .build());
      } catch (IOException | RuntimeException e) {
        fail(e instanceof ProxyStatusException ? (ProxyStatusException) e : limits.failure(request, e));
        return;
      }
      clientAnswer = passed;
      if (!UndertowHost.writeHead(exchange, request.method(), passed)) {
        // no body for the client; the upstream's connection is reusable only if it sent none either
        if (!(request.method().equals("HEAD") || bodyLength == 0 || !chunked && length == null
            && (response.getResponseCode() == 204 || response.getResponseCode() == 304))) {
          abortUpstream();
        }
        drainThenFinish(answered);
        return;
      }
      responseSink = exchange.getResponseChannel();
      download = new Pump(answered.getResponseChannel(), responseSink,
          exchange.getConnection().getByteBufferPool().allocate(), this);
      download.start();
    }

    private void drainThenFinish(ClientExchange answered) {
      stopUnfinishedUpload();
      try {
        long drained = org.xnio.channels.Channels.drain(answered.getResponseChannel(), 1);
        if (drained != -1) {
          abortUpstream();
        }
      } catch (IOException e) {
        abortUpstream();
      }
      responseEnded = true;
      exchange.endExchange();
      finish(true);
    }

    private @Nullable ProxyStatusException framingRefusal(HeaderMap received) {
      HeaderValues transferEncoding = received.get(Headers.TRANSFER_ENCODING);
      HeaderValues contentLength = received.get(Headers.CONTENT_LENGTH);
      return limits.refuseFraming(transferEncoding == null ? null : String.join(", ", transferEncoding),
          contentLength == null ? java.util.List.of() : contentLength);
    }

    private void clientFailed(Exception failure) {
      ProxyStatusException answer = ClientBodyStream.failure(failure);
      exchange.setPersistent(false);
      log.debug("{} {}: client side failed: {}", request.method(), exchange.getRequestURI(), failure.toString());
      fail(answer);
    }

    private void upstreamFailed(IOException failure) {
      if (finished || abortedOnPurpose) {
        return;
      }
      if (reused && !responseArrived && !retried && limits.maySendAgain(request.method()) && upload == null) {
        // a pooled connection the upstream had closed: the request never arrived, send it again
        retried = true;
        cancelTimer();
        abortUpstream();
        abortedOnPurpose = false;  // failures of the next connection count again
        connection = null;
        connect();
        return;
      }
      fail(limits.failure(request, failure));
    }

    /** Answers {@code failure} if the answer has not started, else aborts the client connection. */
    private void fail(ProxyStatusException failure) {
      if (finished) {
        return;
      }
      if (failure.status() >= 500) {
        log.info("{} {} from {}: {} {}{}", request.method(), exchange.getRequestURI(), exchange.getSourceAddress(),
            failure.status(), failure.reason(), failure.getCause() == null ? "" : " (" + failure.getCause() + ")");
      }
      finish(false);
      UndertowHost.answerError(exchange, failure.status(), failure.reason(), failure.headers());
    }

    private void finish(boolean completed) {
      if (finished) {
        return;
      }
      finished = true;
      inFlight.decrementAndGet();
      cancelTimer();
      route.waiting.remove(this);
      try {
        // whoever counts this forward in flight hears it is over (unless it goes on elsewhere)
        if (clientAnswer != null) {
          clientAnswer.close();
        } else if (!handedOff) {
          forward.release();
        }
      } catch (IOException | RuntimeException e) {
        log.debug("closing the answer failed: {}", e.toString());
      }
      if (upload != null) {
        upload.stop();
      }
      if (download != null) {
        download.stop();
      }
      ClientConnection used = connection;
      if (used != null) {
        boolean reusable = completed && requestSent && used.isOpen();
        if (reusable) {
          route.idle.addLast(used);
        } else {
          abort(used);
        }
        route.busy--;
        handOver();
      }
    }

    /** Gives a freed connection slot to the longest-waiting request, if any. */
    private void handOver() {
      Call next = route.waiting.pollFirst();
      if (next != null) {
        next.cancelTimer();
        next.acquire();
      }
    }

    private void watch() {
      schedule(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos) / 4), this::checkSilence);
    }

    /** Fails the call when the upstream is what it waits for and has been silent too long. */
    private void checkSilence() {
      if (finished) {
        return;
      }
      long moved = (upload == null ? 0 : upload.moved()) + (download == null ? 0 : download.moved());
      long now = System.nanoTime();
      if (moved != lastMoved) {
        lastMoved = moved;
        lastProgressAt = now;
      }
      boolean waitingOnUpstream = !responseArrived && (upload == null || requestSent)
          || upload != null && upload.waiting() == Pump.Waiting.SINK
          || download != null && download.waiting() == Pump.Waiting.SOURCE;
      if (waitingOnUpstream && now - lastProgressAt >= timeoutNanos) {
        fail(upload != null && !requestSent ? limits.uploadStalled() : limits.responseTimedOut());
        return;
      }
      if (!waitingOnUpstream) {
        lastProgressAt = now;
      }
      watch();
    }

    private void schedule(long millis, Runnable task) {
      cancelTimer();
      timer = pool.ioThread.executeAfter(task, Math.max(1, millis), TimeUnit.MILLISECONDS);
    }

    private void cancelTimer() {
      if (timer != null) {
        timer.remove();
        timer = null;
      }
    }
  }

  /**
   * Closes an upstream connection at once, writing nothing more: a clean close would end a
   * chunked upload with its last chunk and make a cut-short body look complete. Taking the
   * connection over (as for an upgrade) hands back the raw socket with the client's conduits off.
   */
  private static void abort(@Nullable ClientConnection connection) {
    if (connection == null) {
      return;
    }
    // not only when open: a connection the client means to close after this exchange (the
    // upstream said Connection: close) reports closed while its socket is still open
    try {
      IoUtils.safeClose(connection.performUpgrade());
    } catch (IOException | RuntimeException e) {
      IoUtils.safeClose(connection);
    }
  }

  private static boolean isAddressLiteral(String name) {
    if (name.indexOf(':') >= 0) {
      return true;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c != '.' && (c < '0' || c > '9')) {
        return false;
      }
    }
    return !name.isEmpty();
  }
}
