package org.proxykit.undertow;

import java.time.Duration;
import org.proxykit.api.Nullable;
import org.proxykit.api.spi.Settings;

/**
 * Durations read from the configuration, within what the server can take: Undertow's and
 * XNIO's timeouts and socket timeouts are {@code int} milliseconds, so a longer duration would
 * overflow into a negative or tiny timeout. Longer ones are refused, naming the key.
 */
final class Durations {
  /** The longest duration a timeout can have: {@code Integer.MAX_VALUE} milliseconds, about 24.8 days. */
  static final Duration MAX = Duration.ofMillis(Integer.MAX_VALUE);

  private Durations() {}

  /**
   * Returns the duration under {@code key}, or {@code fallback} if absent: more than 0 and
   * at most {@link #MAX}; a fraction of a millisecond counts as 1ms (0 would mean "no timeout").
   *
   * @throws IllegalArgumentException naming the key if the value is not such a duration
   */
  static Duration positive(Settings settings, String key, Duration fallback) {
    Duration value = bounded(settings, key, fallback);
    if (value == null || value.isZero()) {
      throw new IllegalArgumentException(settings.pathOf(key) + ": must be more than 0");
    }
    return value.toMillis() == 0 ? Duration.ofMillis(1) : value;
  }

  /**
   * Returns the duration under {@code key}, or {@code fallback} if absent, at most {@link #MAX}.
   *
   * @throws IllegalArgumentException naming the key if the value is not such a duration
   */
  static @Nullable Duration bounded(Settings settings, String key, @Nullable Duration fallback) {
    Duration value;
    try {
      value = settings.duration(key, fallback);
    } catch (ArithmeticException e) {
      throw tooLong(settings, key);  // more days than a Duration holds
    }
    if (value != null && value.compareTo(MAX) > 0) {
      throw tooLong(settings, key);
    }
    return value;
  }

  /**
   * Returns {@code duration} in whole milliseconds, for an option that takes an int.
   *
   * @throws ArithmeticException if it is longer than {@link #MAX}: the configuration refuses those
   */
  static int millis(Duration duration) {
    return Math.toIntExact(duration.toMillis());
  }

  private static IllegalArgumentException tooLong(Settings settings, String key) {
    Object value = settings.get(key);
    String shown = value instanceof String ? "'" + value + "'" : String.valueOf(value);
    return new IllegalArgumentException(settings.pathOf(key) + ": must be at most " + MAX.toMillis()
        + "ms (24.8 days), got " + shown);
  }
}
