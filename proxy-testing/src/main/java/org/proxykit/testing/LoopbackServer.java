package org.proxykit.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.proxykit.api.Nullable;

/**
 * A real HTTP/1.1 server on 127.0.0.1 and an ephemeral port, for testing clients and proxies
 * against: it records every request exactly as it arrived ({@link #takeRequest()}), counts
 * TCP connections, and answers through a {@link Handler} that may write well-formed responses
 * or arbitrary bytes. Request bodies are streamed through a SHA-256 digest and only their
 * first bytes are kept, so multi-gigabyte uploads cost no memory.
 *
 * <p>Use it as a JUnit 5 extension, started before and closed after each test:
 * <pre>{@code @RegisterExtension final LoopbackServer backend = new LoopbackServer();}</pre>
 * or start and close it yourself. {@link #close()} fails the test if a handler threw
 * something other than an {@link IOException} (a client going away is normal).
 *
 * @since 0.1
 */
public final class LoopbackServer implements AutoCloseable, BeforeEachCallback, AfterEachCallback {

  /** Answers one request. Runs on the connection's own thread; may block. */
  @FunctionalInterface
  public interface Handler {
    /**
     * Answers {@code request} (already read, body included) through {@code exchange}.
     *
     * @throws Exception to drop the connection; anything but an IOException also fails {@link #close()}
     */
    void handle(RecordedRequest request, Exchange exchange) throws Exception;
  }

  private static final int RECORDED_BODY_LIMIT = 1 << 20;

  private final BlockingQueue<RecordedRequest> requests = new LinkedBlockingQueue<>();
  private final Set<Socket> openSockets = ConcurrentHashMap.newKeySet();
  private final List<Throwable> handlerFailures = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final @Nullable SSLContext sslContext;
  private volatile Handler handler = (request, exchange) -> exchange.respond(200, "");
  private @Nullable ServerSocket serverSocket;
  private @Nullable Thread acceptor;

  /** Makes a plain-HTTP server; it starts on {@link #start()} or before each test. */
  public LoopbackServer() {
    this(null);
  }

  /** Makes an HTTPS server with the certificate in {@code sslContext} (plain HTTP if null). */
  public LoopbackServer(@Nullable SSLContext sslContext) {
    this.sslContext = sslContext;
  }

  /** Sets how requests are answered from now on; the default answers 200 with an empty body. */
  public LoopbackServer handler(Handler handler) {
    this.handler = handler;
    return this;
  }

  /** Binds 127.0.0.1 on an ephemeral port and starts accepting. */
  public synchronized LoopbackServer start() throws IOException {
    if (serverSocket != null) {
      return this;
    }
    ServerSocket socket = sslContext != null
        ? sslContext.getServerSocketFactory().createServerSocket()
        : new ServerSocket();
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    serverSocket = socket;
    Thread thread = new Thread(this::acceptLoop, "loopback-server-" + socket.getLocalPort());
    thread.setDaemon(true);
    thread.start();
    acceptor = thread;
    return this;
  }

  /** Returns the port the server listens on. */
  public int port() {
    if (serverSocket == null) {
      throw new IllegalStateException("server is not started");
    }
    return serverSocket.getLocalPort();
  }

  /** Returns {@code http(s)://127.0.0.1:PORT} followed by {@code path}. */
  public String url(String path) {
    return (sslContext != null ? "https" : "http") + "://127.0.0.1:" + port() + path;
  }

  /**
   * Returns the next request received, waiting up to 10 seconds for it.
   *
   * @throws AssertionError if none arrives
   */
  public RecordedRequest takeRequest() throws InterruptedException {
    RecordedRequest request = requests.poll(10, TimeUnit.SECONDS);
    if (request == null) {
      throw new AssertionError("the server received no request within 10s");
    }
    return request;
  }

  /** Returns the next request if one arrives within {@code timeout}, else null. */
  public @Nullable RecordedRequest pollRequest(Duration timeout) throws InterruptedException {
    return requests.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Returns how many TCP connections were accepted so far. */
  public int connectionCount() {
    return connections.get();
  }

  /** Returns how many accepted connections the server still holds open. */
  public int openConnectionCount() {
    return openSockets.size();
  }

  /** Stops accepting, closes every connection and reports handler failures. */
  @Override
  public synchronized void close() throws Exception {
    ServerSocket socket = serverSocket;
    if (socket == null) {
      return;
    }
    serverSocket = null;
    socket.close();
    for (Socket open : openSockets) {
      open.close();
    }
    if (acceptor != null) {
      acceptor.join(5000);
    }
    if (!handlerFailures.isEmpty()) {
      AssertionError error = new AssertionError("a LoopbackServer handler failed");
      handlerFailures.forEach(error::addSuppressed);
      handlerFailures.clear();
      throw error;
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    start();
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    close();
  }

  private void acceptLoop() {
    ServerSocket listening = serverSocket;
    while (listening != null && !listening.isClosed()) {
      Socket socket;
      try {
        socket = listening.accept();
      } catch (IOException e) {
        return;
      }
      int index = connections.getAndIncrement();
      openSockets.add(socket);
      Thread thread = new Thread(() -> serve(socket, index), "loopback-connection-" + index);
      thread.setDaemon(true);
      thread.start();
    }
  }

  private void serve(Socket socket, int connectionIndex) {
    try (socket) {
      InputStream in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      for (int sequence = 0; ; sequence++) {
        String requestLine = readLine(in, true);
        if (requestLine == null) {
          return;
        }
        List<Map.Entry<String, String>> headers = readHeaders(in);
        Exchange exchange = new Exchange(socket);
        if ("100-continue".equalsIgnoreCase(first(headers, "Expect"))) {
          exchange.writeRaw("HTTP/1.1 100 Continue\r\n\r\n");
        }
        RecordedRequest request = readBody(in, requestLine, headers, connectionIndex, sequence, sniName(socket));
        requests.add(request);
        try {
          handler.handle(request, exchange);
          exchange.flush();
        } catch (IOException e) {
          return;
        } catch (Exception | Error e) {
          handlerFailures.add(e);
          return;
        }
        if (exchange.closeAfter() || "close".equalsIgnoreCase(first(headers, "Connection"))) {
          return;
        }
      }
    } catch (IOException e) {
      // the client went away or sent garbage: the connection ends
    } finally {
      openSockets.remove(socket);
    }
  }

  private static List<Map.Entry<String, String>> readHeaders(InputStream in) throws IOException {
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    for (String line = readLine(in, false); !line.isEmpty(); line = readLine(in, false)) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new IOException("malformed header line: " + line);
      }
      headers.add(new AbstractMap.SimpleImmutableEntry<>(line.substring(0, colon), line.substring(colon + 1).strip()));
    }
    return headers;
  }

  private static RecordedRequest readBody(InputStream in, String requestLine, List<Map.Entry<String, String>> headers,
      int connectionIndex, int sequence, @Nullable String serverName) throws IOException {
    BodySink sink = new BodySink();
    String transferEncoding = first(headers, "Transfer-Encoding");
    boolean chunked = transferEncoding != null && transferEncoding.toLowerCase().contains("chunked");
    if (chunked) {
      while (true) {
        String sizeLine = readLine(in, false);
        int semicolon = sizeLine.indexOf(';');
        long size = Long.parseLong((semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).strip(), 16);
        if (size == 0) {
          readHeaders(in);
          break;
        }
        sink.copy(in, size);
        readLine(in, false);
      }
    } else {
      String length = first(headers, "Content-Length");
      if (length != null) {
        sink.copy(in, Long.parseLong(length.strip()));
      }
    }
    return new RecordedRequest(requestLine, headers, chunked, sink.length, sink.prefix.toByteArray(),
        HexFormat.of().formatHex(sink.digest.digest()), connectionIndex, sequence, serverName);
  }

  private static @Nullable String sniName(Socket socket) {
    if (socket instanceof SSLSocket && ((SSLSocket) socket).getSession() instanceof ExtendedSSLSession) {
      for (SNIServerName name : ((ExtendedSSLSession) ((SSLSocket) socket).getSession()).getRequestedServerNames()) {
        if (name instanceof SNIHostName) {
          return ((SNIHostName) name).getAsciiName();
        }
      }
    }
    return null;
  }

  private static @Nullable String first(List<Map.Entry<String, String>> headers, String name) {
    for (Map.Entry<String, String> header : headers) {
      if (header.getKey().equalsIgnoreCase(name)) {
        return header.getValue();
      }
    }
    return null;
  }

  /** Reads a line ending in LF (CR before it dropped) as ISO-8859-1; null at a clean end of stream if allowed. */
  private static String readLine(InputStream in, boolean endAllowed) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(64);
    while (true) {
      int b = in.read();
      if (b < 0) {
        if (endAllowed && line.size() == 0) {
          return null;
        }
        throw new EOFException("connection closed mid-line");
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
      if (line.size() > 65536) {
        throw new IOException("line too long");
      }
    }
  }

  /** Digests a body and keeps its first bytes. */
  private static final class BodySink {
    final MessageDigest digest;
    final ByteArrayOutputStream prefix = new ByteArrayOutputStream();
    long length;

    BodySink() {
      try {
        digest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    void copy(InputStream in, long count) throws IOException {
      byte[] buffer = new byte[64 * 1024];
      long remaining = count;
      while (remaining > 0) {
        int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
        if (n < 0) {
          throw new EOFException("body ended early");
        }
        digest.update(buffer, 0, n);
        int keep = (int) Math.min(n, RECORDED_BODY_LIMIT - prefix.size());
        if (keep > 0) {
          prefix.write(buffer, 0, keep);
        }
        length += n;
        remaining -= n;
      }
    }
  }

  @Override
  public String toString() {
    return "LoopbackServer(" + (serverSocket == null ? "stopped" : url("")) + ")";
  }
}
