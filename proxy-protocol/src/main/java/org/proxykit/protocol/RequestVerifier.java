package org.proxykit.protocol;

import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.proxykit.api.Nullable;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyStatusException;

/**
 * Checks the RFC 9421 signature that {@link RequestSigner} makes. A request is refused with
 * 401 and a one-line reason when its signature is missing or malformed, names an unknown
 * key or algorithm, does not verify (constant-time comparison), was created longer than
 * {@code maxAge} ago or more than {@code skew} in the future, reuses a nonce seen within the
 * window, does not cover {@code @method}, {@code @authority}, {@code @path} and
 * {@code @query}, or leaves a proxy header present uncovered. The reasons say what was wrong,
 * never how to get it right. Several keys may be held at once, chosen by key id, so keys can
 * be rotated without downtime. Thread-safe.
 *
 * @since 0.1
 */
public final class RequestVerifier {
  private final List<VerificationKey> keys;
  private final Duration maxAge;
  private final Duration skew;
  private final Clock clock;
  private final int replayCacheSize;
  private final Object rotation = new Object();
  private volatile Map<String, Boolean> currentNonces = new ConcurrentHashMap<>();
  private volatile Map<String, Boolean> previousNonces = new ConcurrentHashMap<>();
  private volatile long currentSince = Long.MIN_VALUE;

  private RequestVerifier(Builder builder) {
    this.keys = List.copyOf(builder.keys);
    this.maxAge = builder.maxAge;
    this.skew = builder.skew;
    this.clock = builder.clock;
    this.replayCacheSize = builder.replayCacheSize;
  }

  /** Returns a builder for a verifier that accepts signatures by any of {@code keys}. */
  public static Builder builder(Collection<? extends VerificationKey> keys) {
    return new Builder(keys);
  }

  /**
   * Returns normally if {@code request} carries a valid {@value RequestSigner#LABEL} signature.
   *
   * @throws ProxyStatusException 401 with the reason otherwise
   */
  public void verify(ProxyRequest request) throws ProxyStatusException {
    String input = request.header(ProxyHeaders.SIGNATURE_INPUT);
    String signatureHeader = request.header(ProxyHeaders.SIGNATURE);
    if (input == null || signatureHeader == null) {
      throw refused("request is not signed");
    }
    if (request.headers().all(ProxyHeaders.SIGNATURE_INPUT).size() > 1
        || request.headers().all(ProxyHeaders.SIGNATURE).size() > 1) {
      throw refused("more than one Signature-Input or Signature header");
    }
    StructuredFields.Member covered;
    byte[] signature;
    try {
      covered = StructuredFields.dictionary(input).get(RequestSigner.LABEL);
      StructuredFields.Member signed = StructuredFields.dictionary(signatureHeader).get(RequestSigner.LABEL);
      if (covered == null || signed == null || covered.bytes != null || signed.bytes == null) {
        throw refused("no " + RequestSigner.LABEL + " signature");
      }
      signature = signed.bytes;
    } catch (IllegalArgumentException e) {
      throw refused("malformed signature headers");
    }
    Object created = covered.params.get("created");
    Object keyId = covered.params.get("keyid");
    Object nonce = covered.params.get("nonce");
    Object alg = covered.params.get("alg");
    if (!(created instanceof Long) || !(keyId instanceof String) || !(nonce instanceof String)
        || alg != null && !(alg instanceof String)) {
      throw refused("signature parameters created, keyid and nonce are required");
    }
    VerificationKey key = key((String) keyId);
    if (key == null) {
      throw refused("unknown keyid");
    }
    if (alg != null && !alg.equals(key.algorithm())) {
      throw refused("alg does not match the key");
    }
    long now = clock.instant().getEpochSecond();
    long createdAt = (Long) created;
    if (now - createdAt > maxAge.toSeconds()) {
      throw refused("signature is too old");
    }
    if (createdAt - now > skew.toSeconds()) {
      throw refused("signature is from the future");
    }
    for (String required : RequestSigner.REQUIRED) {
      if (!covered.items.contains(required)) {
        throw refused("signature does not cover " + required);
      }
    }
    for (String name : request.headers().names()) {
      if (ProxyHeaders.isProxyHeader(name)) {
        if (!covered.items.contains(name.toLowerCase(java.util.Locale.ROOT))) {
          throw refused("header " + name + " is not covered by the signature");
        }
        if (request.headers().all(name).size() > 1) {
          // the base joins lines with ", ", which a split line would still match
          throw refused("header " + name + " appears more than once");
        }
      }
    }
    byte[] base;
    try {
      base = SignatureBase.of(request, covered.items, SignatureBase.params(covered.items, covered.params));
    } catch (IllegalArgumentException e) {
      throw refused(e.getMessage());
    }
    if (!key.verify(base, signature)) {
      throw refused("signature does not verify");
    }
    remember(keyId + " " + nonce, now);
  }

  /**
   * Remembers nonces for at least one acceptance window (maxAge + skew) and at most two: two
   * sets that rotate each window, so forgetting costs nothing per request. A signature older
   * than the window is refused as too old anyway, so nothing older needs remembering.
   */
  private void remember(String nonce, long now) throws ProxyStatusException {
    long window = maxAge.toSeconds() + skew.toSeconds() + 1;
    synchronized (rotation) {
      if (currentSince == Long.MIN_VALUE) {
        currentSince = now;
      } else if (now - currentSince >= window) {
        previousNonces = now - currentSince >= 2 * window ? new ConcurrentHashMap<>() : currentNonces;
        currentNonces = new ConcurrentHashMap<>();
        currentSince = now;
      }
    }
    Map<String, Boolean> current = currentNonces;
    if (previousNonces.containsKey(nonce)) {
      throw refused("nonce was used before (replay)");
    }
    if (current.size() >= replayCacheSize) {
      throw refused("too many signed requests in the replay window");
    }
    if (current.putIfAbsent(nonce, Boolean.TRUE) != null) {
      throw refused("nonce was used before (replay)");
    }
  }

  private @Nullable VerificationKey key(String keyId) {
    for (VerificationKey key : keys) {
      if (key.keyId().equals(keyId)) {
        return key;
      }
    }
    return null;
  }

  private static ProxyStatusException refused(String reason) {
    return ProxyStatusException.unauthorized(reason);
  }

  @Override
  public String toString() {
    return "RequestVerifier" + keys;
  }

  /** Configures a {@link RequestVerifier}. */
  public static final class Builder {
    private final List<? extends VerificationKey> keys;
    private Duration maxAge = Duration.ofSeconds(60);
    private Duration skew = Duration.ofSeconds(5);
    private Clock clock = Clock.systemUTC();
    private int replayCacheSize = 1_000_000;

    private Builder(Collection<? extends VerificationKey> keys) {
      if (keys.isEmpty()) {
        throw new IllegalArgumentException("a verifier needs at least one key");
      }
      this.keys = List.copyOf(keys);
    }

    /** Sets how old a signature may be; default 60s. */
    public Builder maxAge(Duration maxAge) {
      this.maxAge = Objects.requireNonNull(maxAge, "maxAge");
      return this;
    }

    /** Sets how far in the future {@code created} may be (clock skew); default 5s. */
    public Builder skew(Duration skew) {
      this.skew = Objects.requireNonNull(skew, "skew");
      return this;
    }

    /** Sets the clock; default the system's. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets how many signed requests one window (maxAge + skew) may carry; beyond it they are
     * refused, since their nonces could not be remembered. Default 1000000 (about 15000 a
     * second with the default window). Each verifier remembers its own: replicas do not share.
     */
    public Builder replayCacheSize(int size) {
      if (size < 1) {
        throw new IllegalArgumentException("replayCacheSize must be at least 1");
      }
      this.replayCacheSize = size;
      return this;
    }

    /** Returns the verifier. */
    public RequestVerifier build() {
      return new RequestVerifier(this);
    }
  }
}
