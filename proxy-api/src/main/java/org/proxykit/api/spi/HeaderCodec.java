package org.proxykit.api.spi;

/**
 * Turns request attribute values of one kind into bytes for an {@code X-WSGIProxy-<Kind>-<n>}
 * header and back. The wire protocol escapes the bytes for the header ({@code b64} + base64
 * when needed), so a codec deals only in bytes. Made by a {@link HeaderCodecProvider}.
 *
 * <p>Implementations are thread-safe.
 *
 * @since 0.1
 */
public interface HeaderCodec {

  /** Returns the kind as it appears in the header name, such as {@code Str} or {@code Json}. */
  String kind();

  /**
   * Returns true if values of this kind may only be decoded from an authenticated sender
   * (a valid signature or a trusted address), because decoding them could do harm (Kryo).
   */
  default boolean requiresTrustedSender() {
    return false;
  }

  /**
   * Returns the bytes for {@code value}.
   *
   * @throws IllegalArgumentException saying why if the value cannot be encoded by this kind
   */
  byte[] encode(Object value);

  /**
   * Returns the value {@code bytes} stand for.
   *
   * @throws IllegalArgumentException saying why (briefly) if the bytes are not a valid value
   */
  Object decode(byte[] bytes);
}
