package org.proxykit.protocol;

/**
 * A key that signs RFC 9421 signature bases on the app side. Made by {@link Keys}.
 * Thread-safe.
 *
 * @since 0.1
 */
public interface SigningKey {
  /** Returns the key id sent in the {@code keyid} parameter. */
  String keyId();

  /** Returns the RFC 9421 algorithm name: {@code hmac-sha256} or {@code ed25519}. */
  String algorithm();

  /** Returns the signature of {@code base}. */
  byte[] sign(byte[] base);
}
