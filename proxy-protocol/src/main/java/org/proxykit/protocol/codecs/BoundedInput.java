package org.proxykit.protocol.codecs;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;

/**
 * A Kryo input that refuses a length its remaining bytes cannot hold before anything is
 * allocated for it: Kryo sizes strings and arrays by the declared length, so without this a
 * six-byte payload could make it allocate gigabytes. Every element takes at least one byte.
 */
final class BoundedInput extends Input {
  BoundedInput(byte[] bytes) {
    super(bytes);
  }

  @Override
  public String readString() {
    checkStringLength();
    return super.readString();
  }

  @Override
  public StringBuilder readStringBuilder() {
    checkStringLength();
    return super.readStringBuilder();
  }

  /** A UTF-8 string starts with its length + 1 as a varint with a flag; ASCII ones end themselves. */
  private void checkStringLength() {
    if (!readVarIntFlag()) {
      return;
    }
    int start = position;
    int declared = readVarIntFlag(true);
    position = start;
    check(declared - 1L);
  }

  @Override
  public byte[] readBytes(int length) {
    check(length);
    return super.readBytes(length);
  }

  @Override
  public int[] readInts(int length, boolean optimizePositive) {
    check(length);
    return super.readInts(length, optimizePositive);
  }

  @Override
  public int[] readInts(int length) {
    check(length * 4L);
    return super.readInts(length);
  }

  @Override
  public long[] readLongs(int length, boolean optimizePositive) {
    check(length);
    return super.readLongs(length, optimizePositive);
  }

  @Override
  public long[] readLongs(int length) {
    check(length * 8L);
    return super.readLongs(length);
  }

  @Override
  public float[] readFloats(int length) {
    check(length * 4L);
    return super.readFloats(length);
  }

  @Override
  public double[] readDoubles(int length) {
    check(length * 8L);
    return super.readDoubles(length);
  }

  @Override
  public short[] readShorts(int length) {
    check(length * 2L);
    return super.readShorts(length);
  }

  @Override
  public char[] readChars(int length) {
    check(length * 2L);
    return super.readChars(length);
  }

  @Override
  public boolean[] readBooleans(int length) {
    check(length);
    return super.readBooleans(length);
  }

  /** Throws unless {@code bytes} more bytes remain. */
  void check(long bytes) {
    long remaining = (long) limit - position;
    if (bytes < 0 || bytes > remaining) {
      throw new KryoException("declares " + bytes + " bytes of content in " + remaining);
    }
  }
}
