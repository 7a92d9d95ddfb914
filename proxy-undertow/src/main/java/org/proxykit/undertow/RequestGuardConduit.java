package org.proxykit.undertow;

import io.undertow.server.AbstractServerConnection;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.util.AttachmentKey;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyStatusException;
import org.xnio.ChannelListener;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The request guard: sits under Undertow's HTTP/1.x parser on each accepted connection, reads
 * the client's bytes before Undertow does, and hands over only what {@link RequestScanner}
 * found well framed, unchanged. Undertow never sees a request head until the guard has
 * checked all of it, so a refused head never reaches a handler, in part or whole.
 *
 * <p><b>Refusing a head</b> (bad syntax, 414, 431, 408): Undertow gets the complete requests
 * before it, then a small request of the guard's own making, {@code GET /..} with a
 * {@code Proxykit-Refusal} token, and then the end of the stream. {@link UndertowHost} asks
 * {@link #refusal(HttpServerExchange)}, which recognises that request by its token on this
 * very connection (so no client can forge one), and answers the refusal's status and reason
 * and closes. The answer is thereby queued behind the answers to the requests before it, as
 * pipelining requires. (If a handler ever saw the made-up request, {@code /..} is refused
 * anyway.)
 *
 * <p><b>Refusing a body</b> (malformed chunked framing, 413, 408 when it stalls): the reader
 * gets the body up to the fault, then no more bytes; {@link ClientBodyStream} and forwards
 * ({@link Pump.SourceCheck}) ask {@link #bodyFailure()} when a read gives nothing, and fail
 * with the refusal as the exception ({@link ClientBodyStream#failure} maps it). It is never
 * thrown through Undertow's body decoders: they close the connection on any read failure,
 * before the answer could be sent. A reader that knows nothing of the guard (one draining the
 * rest of the body) gets the end of the stream instead.
 *
 * <p><b>Timeouts</b>, timed on the connection's I/O thread (a blocking reader times its own
 * wait): a head not complete
 * {@code headerTimeout} after its first byte is refused with 408; a connection waiting for a
 * request with no byte for {@code idleTimeout} gets the end of the stream, which makes Undertow
 * close it silently (nginx does the same); a body with no byte for {@code bodyTimeout} while
 * read fails with a {@link SocketTimeoutException} (408). After a switch of protocol (CONNECT,
 * HTTP/2) everything passes unread; an HTTP/2 client silent for {@code idleTimeout} fails the
 * read, which closes the connection, and a CONNECT tunnel is left to its own idle timeout (its
 * client may be silent for long while it downloads).
 */
final class RequestGuardConduit extends AbstractStreamSourceConduit<StreamSourceConduit> implements Runnable {
  /** Set on the exchange of a refusal, so the access log does not show the made-up request line. */
  static final AttachmentKey<Boolean> REFUSED = AttachmentKey.create(Boolean.class);

  private static final HttpString TOKEN_HEADER = HttpString.tryFromString("Proxykit-Refusal");
  private static final long NONE = Long.MAX_VALUE;
  private static final int DISCARD_LIMIT = 1 << 20;

  /** What the guard refused, and the token of the request it made up for it. */
  record Refusal(int status, String reason, String token) {}

  /** The limits in the units the guard uses. */
  static final class Limits {
    final int maxRequestLine;
    final long maxHeaderSize;
    final int maxHeaders;
    final long maxBodySize;
    final long headerTimeout;
    final long idleTimeout;
    final long bodyTimeout;
    final long bodyMinRate;

    Limits(ProxykitConfig.Limits limits) {
      this.maxRequestLine = (int) Math.min(Integer.MAX_VALUE, limits.maxRequestLine());
      this.maxHeaderSize = limits.maxHeaderSize();
      this.maxHeaders = limits.maxHeaders();
      this.maxBodySize = limits.maxBodySize();
      this.headerTimeout = limits.headerTimeout().toNanos();
      this.idleTimeout = limits.idleTimeout().toNanos();
      this.bodyTimeout = limits.bodyTimeout().toNanos();
      this.bodyMinRate = limits.bodyMinRate();
    }
  }

  private final StreamConnection connection;
  private final Limits limits;
  private final RequestScanner scanner;

  // bytes read but not handed over: [holdStart, holdReady) are checked, [holdReady, holdEnd) a head not complete yet
  private @Nullable ByteBuffer hold;
  private int holdStart;
  private int holdReady;
  private int holdEnd;
  private volatile long headSince;      // when the held head's first byte came; 0 when none is held
  private volatile long waitingSince;   // since when a reader has waited without a byte; 0 when none waits
  private volatile boolean body;
  private volatile boolean passthrough;
  private volatile boolean tunnel;
  private volatile boolean readsResumed;

  private volatile @Nullable Refusal refusal;
  private byte @Nullable [] madeUp;
  private int madeUpHanded;
  private volatile @Nullable IOException bodyFailure;
  private volatile boolean failureAsEnd;
  private volatile boolean terminated;

  // the body being read, for its rate: when it began and how many bytes came since (the reader's thread only)
  private long bodySince;
  private long bodyBytes;

  private @Nullable XnioExecutor.Key timer;
  private long timerDeadline;

  private RequestGuardConduit(StreamSourceConduit next, StreamConnection connection, Limits limits) {
    super(next);
    this.connection = connection;
    this.limits = limits;
    this.scanner = new RequestScanner(limits.maxRequestLine, limits.maxHeaderSize, limits.maxHeaders,
        limits.maxBodySize);
  }

  /**
   * Returns an open listener that installs a guard on each new connection's source, then hands
   * the connection to {@code next} (Undertow's HTTP or ALPN open listener).
   */
  static ChannelListener<StreamConnection> installing(Limits limits, ChannelListener<? super StreamConnection> next) {
    return new ChannelListener<>() {
      @Override
      public void handleEvent(StreamConnection connection) {
        ConduitStreamSourceChannel source = connection.getSourceChannel();
        source.setConduit(new RequestGuardConduit(source.getConduit(), connection, limits));
        next.handleEvent(connection);
      }

      @Override
      public String toString() {
        return "RequestGuard(" + next + ")";
      }
    };
  }

  /** Returns the guard of the exchange's connection, or null if it has none (HTTP/2). */
  static @Nullable RequestGuardConduit of(HttpServerExchange exchange) {
    ServerConnection connection = exchange.getConnection();
    if (connection instanceof AbstractServerConnection) {
      StreamSourceConduit source = ((AbstractServerConnection) connection).getOriginalSourceConduit();
      if (source instanceof RequestGuardConduit) {
        return (RequestGuardConduit) source;
      }
    }
    return null;
  }

  /**
   * Returns the refusal that {@code exchange} stands for if it is the request the guard made up
   * on its connection, else null.
   */
  static @Nullable Refusal refusal(HttpServerExchange exchange) {
    RequestGuardConduit guard = of(exchange);
    Refusal refusal = guard == null ? null : guard.refusal;
    if (refusal == null || !refusal.token().equals(exchange.getRequestHeaders().getFirst(TOKEN_HEADER))) {
      return null;
    }
    return refusal;
  }

  /**
   * Returns why the request body cannot be read (a {@link ProxyStatusException}, or a
   * {@link SocketTimeoutException} when it stalled), or null if it may still come. A
   * reader that read nothing asks this before it waits; the reader's thread calls it.
   */
  @Nullable IOException bodyFailure() {
    IOException failure = bodyFailure;
    if (failure == null && body && expired(waitingSince, limits.bodyTimeout)) {
      failure = stalled();
    }
    return failure;
  }

  // ---- reading

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (terminated) {
      return -1;
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    int handed = handOverHeld(dst);
    if (handed > 0) {
      return handed;
    }
    if (refusal != null) {
      return handOverMadeUp(dst);
    }
    if (bodyFailure != null) {
      return failureAsEnd ? -1 : 0;
    }
    if (passthrough) {
      return readPassedThrough(dst);
    }
    if (holdEnd > holdStart) {
      boolean late = expired(headSince, limits.headerTimeout);
      int n = readIntoHold(dst);
      // late only if what has arrived meanwhile (a pipelined head waits unread while the request
      // before it is served) still does not complete it
      if (late && n == 0 && refusal == null && holdEnd > holdStart && expired(headSince, limits.headerTimeout)) {
        refuse(new ProxyStatusException(408, "request head not received within "
            + TimeUnit.NANOSECONDS.toMillis(limits.headerTimeout) + "ms"), holdStart);
        return handOverMadeUp(dst);
      }
      return n;
    }
    if (body) {
      if (expired(waitingSince, limits.bodyTimeout)) {
        stalled();
        return 0;
      }
      if (bodySince == 0) {
        bodySince = System.nanoTime();  // from the first read: a handler busy before it reads is not the client's fault
      }
      if (tooSlow()) {
        failBody(new ProxyStatusException(408, "the request body arrives slower than " + limits.bodyMinRate
            + " bytes/s"));
        return 0;
      }
    } else if (expired(waitingSince, limits.idleTimeout)) {
      return -1;  // idle: the head reader closes the connection without a word
    }
    return readDirect(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    long total = 0;
    for (int i = offset; i < offset + length; i++) {
      ByteBuffer dst = dsts[i];
      if (!dst.hasRemaining()) {
        continue;
      }
      int wanted = dst.remaining();
      int n = read(dst);
      if (n < 0) {
        return total == 0 ? -1 : total;
      }
      total += n;
      if (n < wanted) {
        break;
      }
    }
    return total;
  }

  @Override
  public long transferTo(long position, long count, FileChannel target) throws IOException {
    return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
  }

  @Override
  public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
    return Conduits.transfer(this, count, throughBuffer, target);
  }

  /** Reads from the socket straight into {@code dst}, checks the bytes there and keeps back an incomplete head. */
  private int readDirect(ByteBuffer dst) throws IOException {
    int start = dst.position();
    int n = next.read(dst);
    if (n <= 0) {
      if (n == 0) {
        waiting();
      }
      return n;
    }
    waitingSince = 0;
    if (body) {
      bodyBytes += n;
    }
    int end = start + n;
    int stop = scanner.scan(dst, start, end);
    if (scanner.violation() != null) {
      if (scanner.violationInHead()) {
        dst.position(scanner.headStart());
        refuse(scanner.violation(), 0);
        return dst.position() - start + handOverMadeUp(dst);
      }
      dst.position(stop);
      failBody(scanner.violation());
      return stop - start;
    }
    passthrough = scanner.passthrough();
    tunnel = scanner.tunnel();
    body = scanner.inBody();
    timeBody();
    if (scanner.inHead()) {
      int head = scanner.headStart();
      keep(dst, head, end);
      dst.position(head);
      return head - start;
    }
    dst.position(end);
    return n;
  }

  /** Reads more of a held head into the hold, checks it, and hands over what became complete. */
  private int readIntoHold(ByteBuffer dst) throws IOException {
    ByteBuffer held = room();
    held.limit(held.capacity()).position(holdEnd);
    int n = next.read(held);
    if (n <= 0) {
      if (n < 0) {
        holdStart = holdReady = holdEnd = 0;  // the client went away in the middle of a head
        hold = null;
        headSince = 0;
      }
      return n;
    }
    waitingSince = 0;
    int from = holdEnd;
    holdEnd += n;
    int stop = scanner.scan(held, from, holdEnd);
    if (scanner.violation() != null) {
      if (scanner.violationInHead()) {
        refuse(scanner.violation(), scanner.headStart());
      } else {
        holdReady = holdEnd = stop;
        failBody(scanner.violation());
      }
      headSince = 0;
    } else {
      passthrough = scanner.passthrough();
      tunnel = scanner.tunnel();
      body = scanner.inBody();
      timeBody();
      if (scanner.inHead()) {
        if (scanner.headStart() != holdReady) {
          headSince = now();  // the held head is complete; another began
          arm(headSince + limits.headerTimeout);
        }
        holdReady = scanner.headStart();
      } else {
        holdReady = holdEnd;
        headSince = 0;
      }
    }
    int handed = handOverHeld(dst);
    return handed > 0 || refusal == null ? handed : handOverMadeUp(dst);
  }

  private int readPassedThrough(ByteBuffer dst) throws IOException {
    // a CONNECT tunnel is not timed here: its client may stay silent for long while it receives
    // (an https download), and the tunnel's own idle timeout bounds it. HTTP/2 clients answer
    // what they receive (window updates, pings): one silent for idleTimeout is gone
    if (!tunnel && expired(waitingSince, limits.idleTimeout)) {
      throw new SocketTimeoutException("no bytes from the client for "
          + TimeUnit.NANOSECONDS.toMillis(limits.idleTimeout) + "ms");
    }
    int n = next.read(dst);
    if (n == 0) {
      waiting();
    } else if (n > 0) {
      waitingSince = 0;
    }
    return n;
  }

  /** Copies {@code buffer[from, to)}, an incomplete head, into the hold. */
  private void keep(ByteBuffer buffer, int from, int to) {
    int length = to - from;
    ByteBuffer held = ByteBuffer.allocate(Math.max(16 * 1024, length + 4096));
    hold = held;
    buffer.get(from, held.array(), 0, length);
    holdStart = 0;
    holdReady = 0;
    holdEnd = length;
    scanner.moveHead(-from);
    headSince = now();
    arm(headSince + limits.headerTimeout);
  }

  /** Returns the hold with room after {@code holdEnd}, moving or growing it as needed. */
  private ByteBuffer room() {
    ByteBuffer held = hold;
    if (held.capacity() - holdEnd >= 4096) {
      return held;
    }
    int length = holdEnd - holdStart;
    ByteBuffer target = held;
    if (held.capacity() - length < 4096) {
      // a held head is at most maxHeaderSize (+1 to see it is more): grow by half each time
      target = ByteBuffer.allocate(held.capacity() + Math.max(4096, held.capacity() / 2));
    }
    System.arraycopy(held.array(), holdStart, target.array(), 0, length);
    scanner.moveHead(-holdStart);
    holdReady -= holdStart;
    holdEnd = length;
    holdStart = 0;
    hold = target;
    return target;
  }

  /** Copies checked held bytes into {@code dst}; returns how many. */
  private int handOverHeld(ByteBuffer dst) {
    int ready = holdReady - holdStart;
    if (ready <= 0) {
      return 0;
    }
    int n = Math.min(ready, dst.remaining());
    dst.put(hold.array(), holdStart, n);
    holdStart += n;
    if (holdStart == holdEnd) {
      holdStart = holdReady = holdEnd = 0;
      hold = null;  // most heads come whole: an idle connection keeps no buffer
    }
    return n;
  }

  private int handOverMadeUp(ByteBuffer dst) {
    byte[] request = madeUp;
    if (request == null || madeUpHanded == request.length) {
      return -1;
    }
    int n = Math.min(request.length - madeUpHanded, dst.remaining());
    dst.put(request, madeUpHanded, n);
    madeUpHanded += n;
    return n;
  }

  // ---- refusals

  /**
   * Refuses the head that begins at {@code headStart} in the hold (or in the buffer just read,
   * with nothing held): the complete messages before it are still handed over, then the
   * made-up request, then the end of the stream.
   */
  private void refuse(ProxyStatusException why, int headStart) {
    if (holdEnd > holdStart) {
      holdReady = holdEnd = Math.max(holdStart, headStart);
      if (holdStart == holdEnd) {
        holdStart = holdReady = holdEnd = 0;
        hold = null;
      }
    }
    headSince = 0;
    String token = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    madeUp = ("GET /.. HTTP/1.1\r\nHost: refused.invalid\r\nConnection: close\r\n" + TOKEN_HEADER + ": " + token + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    refusal = new Refusal(why.status(), why.reason(), token);
    discardAvailable();
  }

  private void failBody(ProxyStatusException why) {
    bodyFailure = why;
    body = false;
    discardAvailable();
  }

  /** Forgets the rate of a body that has ended. */
  private void timeBody() {
    if (!body) {
      bodySince = 0;
      bodyBytes = 0;
    }
  }

  /**
   * Returns true if the body being read is later than {@code bodyMinRate} allows: it may take
   * {@code bodyTimeout} from its first read, plus a second for every {@code bodyMinRate} bytes
   * it has brought (the way Apache's mod_reqtimeout MinRate extends its body timeout).
   */
  private boolean tooSlow() {
    if (limits.bodyMinRate <= 0 || bodySince == 0) {
      return false;
    }
    double allowedNanos = limits.bodyTimeout + bodyBytes * 1e9 / limits.bodyMinRate;
    return System.nanoTime() - bodySince > allowedNanos;
  }

  private IOException stalled() {
    IOException failure = new SocketTimeoutException("no request body bytes for "
        + TimeUnit.NANOSECONDS.toMillis(limits.bodyTimeout) + "ms");
    bodyFailure = failure;
    body = false;
    return failure;
  }

  /**
   * Reads and drops what the client has sent after a refusal, up to a limit, so that closing
   * the connection with unread bytes does not reset it before the answer is read.
   */
  private void discardAvailable() {
    ByteBuffer scratch = ByteBuffer.allocate(8192);
    try {
      for (int total = 0; total < DISCARD_LIMIT; ) {
        scratch.clear();
        int n = next.read(scratch);
        if (n <= 0) {
          return;
        }
        total += n;
      }
    } catch (IOException e) {
      // the connection is going anyway
    }
  }

  // ---- readiness and waiting

  /** Returns true if a read would return at once: held bytes, the made-up request, or the end. */
  private boolean readyForReader() {
    return holdReady > holdStart || refusal != null || failureAsEnd || terminated
        || holdEnd > holdStart && expired(headSince, limits.headerTimeout);
  }

  @Override
  public void resumeReads() {
    readsResumed = true;
    if (bodyFailure != null && !failureAsEnd) {
      // a reader that does not know the guard waits for the rest: give it the end instead
      failureAsEnd = true;
    }
    if (readyForReader()) {
      next.wakeupReads();
      return;
    }
    waiting();
    next.resumeReads();
  }

  @Override
  public void wakeupReads() {
    readsResumed = true;
    next.wakeupReads();
  }

  @Override
  public void suspendReads() {
    readsResumed = false;
    waitingSince = 0;
    next.suspendReads();
  }

  @Override
  public void terminateReads() throws IOException {
    if (!terminated) {
      terminated = true;
      if (refusal != null || bodyFailure != null) {
        discardAvailable();
      }
    }
    next.terminateReads();
  }

  @Override
  public void awaitReadable() throws IOException {
    awaitReadable(NONE, TimeUnit.NANOSECONDS);
  }

  /**
   * Waits until bytes may be read, or the body timeout passes, or at once if the body was
   * refused: the reader's next {@code read} returns what there is, or nothing, and a reader that
   * knows the guard then asks {@link #bodyFailure()}. Nothing is thrown here: Undertow's
   * fixed-length decoder closes the connection when this fails.
   */
  @Override
  public void awaitReadable(long time, TimeUnit unit) throws IOException {
    if (bodyFailure != null) {
      // a reader that knows the guard asks bodyFailure() before it waits: this one gets the end
      failureAsEnd = true;
      return;
    }
    if (readyForReader()) {
      return;
    }
    long wait = unit.toNanos(time);
    if (body) {
      if (waitingSince == 0) {
        waitingSince = now();
      }
      long left = waitingSince + limits.bodyTimeout - System.nanoTime();
      if (left <= 0) {
        return;  // the next read sees the timeout
      }
      wait = Math.min(wait, left);
    }
    if (wait == NONE) {
      next.awaitReadable();
    } else {
      next.awaitReadable(wait, TimeUnit.NANOSECONDS);
    }
  }

  /** Notes that a reader waits for bytes from now, unless it already did. */
  private void waiting() {
    if (waitingSince == 0 && !tunnel) {
      long now = now();
      waitingSince = now;
      arm(now + (body ? limits.bodyTimeout : limits.idleTimeout));
    }
  }

  /** The timer: wakes the reader when a deadline has passed, so that its next read acts on it. */
  @Override
  public void run() {
    synchronized (this) {
      timer = null;
    }
    if (!connection.isOpen() || terminated || refusal != null || bodyFailure != null) {
      return;
    }
    long deadline = deadline();
    if (deadline == NONE) {
      return;
    }
    if (deadline - System.nanoTime() > 0) {
      arm(deadline);
    } else if (readsResumed) {
      next.wakeupReads();
    }
  }

  private long deadline() {
    long head = headSince;
    if (head != 0) {
      return head + limits.headerTimeout;
    }
    long since = waitingSince;
    if (since == 0 || tunnel) {
      return NONE;
    }
    return since + (body ? limits.bodyTimeout : limits.idleTimeout);
  }

  private synchronized void arm(long deadline) {
    if (timer != null && timerDeadline - deadline <= 0) {
      return;
    }
    if (timer != null) {
      timer.remove();
    }
    long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) + 1);
    try {
      timer = connection.getIoThread().executeAfter(this, millis, TimeUnit.MILLISECONDS);
      timerDeadline = deadline;
    } catch (RejectedExecutionException e) {
      timer = null;  // the server is stopping
    }
  }

  private static boolean expired(long since, long timeout) {
    return since != 0 && System.nanoTime() - since - timeout >= 0;
  }

  private static long now() {
    long now = System.nanoTime();
    return now == 0 ? 1 : now;
  }

  @Override
  public String toString() {
    return "RequestGuardConduit[" + connection.getPeerAddress() + "]";
  }
}
