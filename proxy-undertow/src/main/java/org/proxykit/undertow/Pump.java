package org.proxykit.undertow;

import io.undertow.connector.PooledByteBuffer;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.proxykit.api.Nullable;
import org.xnio.ChannelListener;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;

/**
 * Moves a body from a source channel to a sink channel on their I/O thread until the source
 * ends, one pooled buffer at a time, flushing whenever the source has nothing more for now
 * (so a server-sent event reaches the client when it arrives). It reads only as fast as the
 * sink takes bytes. It does not end the sink: its owner does that when told the source ended.
 * It knows which side it is waiting for, so a watchdog can tell a silent peer from a slow one.
 * A source with nothing to read is asked its {@link SourceCheck} before the pump waits for it,
 * so a refusal that will never turn into bytes fails the pump as a failure of the source.
 */
final class Pump {
  /** What the owner hears: the end of the source, or the first failure on either side. */
  interface Listener {
    void ended(Pump pump);

    void failed(Pump pump, Exception failure, boolean onSource);
  }

  /**
   * Says why a source that has no bytes now will never have more (the request guard refused
   * the rest of a client's body), or null if more may come.
   */
  interface SourceCheck {
    SourceCheck NONE = () -> null;

    @Nullable IOException failure();
  }

  enum Waiting { NOTHING, SOURCE, SINK }

  private final StreamSourceChannel source;
  private final StreamSinkChannel sink;
  private final PooledByteBuffer pooled;
  private final ByteBuffer buffer;
  private final Listener listener;
  private final SourceCheck sourceCheck;
  private Waiting waiting = Waiting.NOTHING;
  private boolean flushing;
  private boolean unflushed;
  private boolean finished;
  private long moved;

  Pump(StreamSourceChannel source, StreamSinkChannel sink, PooledByteBuffer pooled, Listener listener) {
    this(source, sink, pooled, listener, SourceCheck.NONE);
  }

  Pump(StreamSourceChannel source, StreamSinkChannel sink, PooledByteBuffer pooled, Listener listener,
      SourceCheck sourceCheck) {
    this.source = source;
    this.sink = sink;
    this.pooled = pooled;
    this.buffer = pooled.getBuffer();
    this.listener = listener;
    this.sourceCheck = sourceCheck;
    buffer.clear().flip();
  }

  void start() {
    ChannelListener<StreamSourceChannel> onReadable = channel -> run();
    ChannelListener<StreamSinkChannel> onWritable = channel -> run();
    source.getReadSetter().set(onReadable);
    sink.getWriteSetter().set(onWritable);
    run();
  }

  /** Returns what the pump waits for now. */
  Waiting waiting() {
    return finished ? Waiting.NOTHING : waiting;
  }

  /** Returns how many bytes have reached the sink; it grows while the pump makes progress. */
  long moved() {
    return moved;
  }

  /** Stops the pump and frees its buffer; safe to call more than once. */
  void stop() {
    if (!finished) {
      finished = true;
      source.getReadSetter().set(null);
      sink.getWriteSetter().set(null);
      source.suspendReads();
      sink.suspendWrites();
      pooled.close();
    }
  }

  private void run() {
    if (finished) {
      return;
    }
    boolean onSource = true;
    try {
      while (true) {
        if (buffer.hasRemaining()) {
          onSource = false;
          int written = sink.write(buffer);
          if (written == 0) {
            await(Waiting.SINK);
            return;
          }
          moved += written;
          unflushed = true;
          continue;
        }
        if (flushing) {
          onSource = false;
          if (!sink.flush()) {
            await(Waiting.SINK);
            return;
          }
          flushing = false;
          unflushed = false;
        }
        onSource = true;
        buffer.clear();
        int read = source.read(buffer);
        buffer.flip();
        if (read < 0) {
          stop();
          listener.ended(this);
          return;
        }
        if (read == 0) {
          IOException failure = sourceCheck.failure();
          if (failure != null) {
            throw failure;
          }
          // flush only after writing: an upload's request head then leaves with its first body bytes,
          // so a body that turns out malformed at once sends the upstream nothing at all
          onSource = false;
          if (unflushed && !sink.flush()) {
            flushing = true;
            await(Waiting.SINK);
          } else {
            unflushed = false;
            await(Waiting.SOURCE);
          }
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      stop();
      listener.failed(this, e, onSource);
    }
  }

  private void await(Waiting side) {
    waiting = side;
    if (side == Waiting.SINK) {
      source.suspendReads();
      sink.resumeWrites();
    } else {
      sink.suspendWrites();
      source.resumeReads();
    }
  }
}
