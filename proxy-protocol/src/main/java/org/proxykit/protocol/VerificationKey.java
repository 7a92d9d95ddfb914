package org.proxykit.protocol;

/**
 * A key that checks RFC 9421 signatures on the middleware side. Made by {@link Keys}.
 * Thread-safe.
 *
 * @since 0.1
 */
public interface VerificationKey {
  /** Returns the key id it answers to. */
  String keyId();

  /** Returns the RFC 9421 algorithm name: {@code hmac-sha256} or {@code ed25519}. */
  String algorithm();

  /** Returns true if {@code signature} is this key's signature of {@code base}, compared in constant time. */
  boolean verify(byte[] base, byte[] signature);
}
