package org.proxykit.api.spi;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.proxykit.api.Nullable;

/**
 * The configuration a provider is created with: named values as they come from a YAML file
 * (strings, numbers, booleans, lists, nested maps) or from code (any object, such as an
 * {@link javax.net.ssl.SSLContext}). Immutable. The typed getters convert and check, and
 * their errors name the full key path ({@code mounts[0].handler.transport.connectTimeout}),
 * so a mistake in a config file is reported as one line a person can act on.
 *
 * @since 0.1
 */
public final class Settings {
  private static final Settings EMPTY = new Settings("", Map.of());
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|[kmg]i?b?)?", Pattern.CASE_INSENSITIVE);
  private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  private final String path;
  private final Map<String, Object> values;

  private Settings(String path, Map<String, Object> values) {
    this.path = path;
    this.values = values;
  }

  /** Returns settings with no value. */
  public static Settings empty() {
    return EMPTY;
  }

  /** Returns settings holding a copy of {@code values}; errors name keys as they are. */
  public static Settings of(Map<String, ?> values) {
    return of("", values);
  }

  /**
   * Returns settings holding a copy of {@code values}, found at {@code path} in a larger
   * configuration; errors name keys as {@code path.key}.
   *
   * @throws IllegalArgumentException if a key or value is null
   */
  public static Settings of(String path, Map<String, ?> values) {
    Map<String, Object> copy = new LinkedHashMap<>();
    values.forEach((key, value) -> {
      if (key == null || value == null) {
        throw new IllegalArgumentException((path.isEmpty() ? "" : path + ": ") + "null key or value for key " + key);
      }
      copy.put(key, value);
    });
    return new Settings(Objects.requireNonNull(path, "path"), Collections.unmodifiableMap(copy));
  }

  /** Returns the path these settings were found at; empty at the top. */
  public String path() {
    return path;
  }

  /** Returns the full path of {@code key}, as errors show it. */
  public String pathOf(String key) {
    return path.isEmpty() ? key : path + '.' + key;
  }

  /** Returns the keys present, in order. */
  public Set<String> keys() {
    return values.keySet();
  }

  /** Returns the raw values, unmodifiable. */
  public Map<String, Object> asMap() {
    return values;
  }

  /** Returns true if {@code key} has a value. */
  public boolean has(String key) {
    return values.containsKey(key);
  }

  /** Returns the raw value of {@code key}, or null. */
  public @Nullable Object get(String key) {
    return values.get(key);
  }

  /** Returns a copy with {@code key} set to {@code value}. */
  public Settings with(String key, Object value) {
    Map<String, Object> copy = new LinkedHashMap<>(values);
    copy.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return new Settings(path, Collections.unmodifiableMap(copy));
  }

  /** Returns a copy without {@code key}. */
  public Settings without(String key) {
    if (!values.containsKey(key)) {
      return this;
    }
    Map<String, Object> copy = new LinkedHashMap<>(values);
    copy.remove(key);
    return new Settings(path, Collections.unmodifiableMap(copy));
  }

  /**
   * Checks that every key present is one of {@code known}.
   *
   * @throws IllegalArgumentException naming the first unknown key and listing the known ones
   */
  public Settings checkKnown(Collection<String> known) {
    for (String key : values.keySet()) {
      if (!known.contains(key)) {
        throw new IllegalArgumentException(
            pathOf(key) + ": unknown key (known: " + String.join(", ", new TreeSet<>(known)) + ")");
      }
    }
    return this;
  }

  /** Returns the text value of {@code key}, or {@code fallback} if absent. Numbers and booleans are taken as text. */
  public @Nullable String string(String key, @Nullable String fallback) {
    Object value = values.get(key);
    if (value == null) {
      return fallback;
    }
    if (value instanceof String || value instanceof Number || value instanceof Boolean) {
      return value.toString();
    }
    throw bad(key, "expected text", value);
  }

  /** Returns the integer value of {@code key}, or {@code fallback} if absent. */
  public int integer(String key, int fallback) {
    long value = longValue(key, fallback);
    if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
      throw bad(key, "expected an integer within the int range", value);
    }
    return (int) value;
  }

  /** Returns the long value of {@code key}, or {@code fallback} if absent. */
  public long longValue(String key, long fallback) {
    Object value = values.get(key);
    if (value == null) {
      return fallback;
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof String) {
      try {
        return Long.parseLong(((String) value).trim());
      } catch (NumberFormatException e) {
        // falls through to the error below
      }
    }
    throw bad(key, "expected an integer", value);
  }

  /** Returns the boolean value of {@code key} ({@code true}/{@code false}), or {@code fallback} if absent. */
  public boolean bool(String key, boolean fallback) {
    Object value = values.get(key);
    if (value == null) {
      return fallback;
    }
    if (value instanceof Boolean) {
      return (Boolean) value;
    }
    if ("true".equals(value) || "false".equals(value)) {
      return Boolean.parseBoolean((String) value);
    }
    throw bad(key, "expected true or false", value);
  }

  /**
   * Returns the duration value of {@code key}, or {@code fallback} if absent: a
   * {@link Duration}, or text read by {@link #parseDuration}.
   */
  public @Nullable Duration duration(String key, @Nullable Duration fallback) {
    Object value = values.get(key);
    if (value == null) {
      return fallback;
    }
    if (value instanceof Duration) {
      if (((Duration) value).isNegative()) {
        throw bad(key, "duration must not be negative", value);
      }
      return (Duration) value;
    }
    if (value instanceof String) {
      try {
        return parseDuration((String) value);
      } catch (IllegalArgumentException e) {
        throw bad(key, e.getMessage(), value);
      }
    }
    throw bad(key, "expected a duration such as 500ms, 30s, 5m or PT1M", value);
  }

  /**
   * Returns the size in bytes under {@code key}, or {@code fallback} if absent: a whole
   * number of bytes, or text with a unit: {@code B}, {@code KiB}, {@code MiB}, {@code GiB}
   * (also {@code KB}, {@code MB}, {@code GB}, {@code k}, {@code m}, {@code g}, all taken as
   * powers of 1024, as nginx does).
   */
  public long size(String key, long fallback) {
    Object value = values.get(key);
    if (value == null) {
      return fallback;
    }
    if (value instanceof Integer || value instanceof Long) {
      long bytes = ((Number) value).longValue();
      if (bytes >= 0) {
        return bytes;
      }
    } else if (value instanceof String) {
      Matcher size = SIZE.matcher(((String) value).trim());
      if (size.matches()) {
        try {
          long amount = Long.parseLong(size.group(1));
          String unit = size.group(2) == null ? "" : size.group(2).toLowerCase(Locale.ROOT);
          int shift = unit.isEmpty() || unit.equals("b") ? 0
              : unit.startsWith("k") ? 10 : unit.startsWith("m") ? 20 : 30;
          if (amount <= Long.MAX_VALUE >> shift) {
            return amount << shift;
          }
        } catch (NumberFormatException e) {
          // falls through to the error below
        }
      }
    }
    throw bad(key, "expected a size such as 16KiB, 10MiB or 1GiB", value);
  }

  /** Returns the list of texts under {@code key} (a single text counts as a list of one); empty if absent. */
  public List<String> strings(String key) {
    Object value = values.get(key);
    if (value == null) {
      return List.of();
    }
    if (value instanceof String) {
      return List.of((String) value);
    }
    if (value instanceof Collection) {
      List<String> list = new ArrayList<>();
      int index = 0;
      for (Object element : (Collection<?>) value) {
        if (!(element instanceof String || element instanceof Number)) {
          throw bad(key + '[' + index + ']', "expected text", element);
        }
        list.add(element.toString());
        index++;
      }
      return Collections.unmodifiableList(list);
    }
    throw bad(key, "expected a list of texts", value);
  }

  /** Returns the nested settings under {@code key}, with the path extended; empty if absent. */
  public Settings nested(String key) {
    Object value = values.get(key);
    if (value == null) {
      return new Settings(pathOf(key), Map.of());
    }
    if (value instanceof Settings) {
      return (Settings) value;
    }
    if (value instanceof Map) {
      Map<String, Object> map = new LinkedHashMap<>();
      for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
        map.put(String.valueOf(entry.getKey()), entry.getValue());
      }
      return of(pathOf(key), map);
    }
    throw bad(key, "expected a map of settings", value);
  }

  /** Returns the value of {@code key} as an instance of {@code type}, or {@code fallback} if absent. */
  public <T> @Nullable T instance(String key, Class<T> type, @Nullable T fallback) {
    Object value = values.get(key);
    if (value == null) {
      return fallback;
    }
    if (!type.isInstance(value)) {
      throw new IllegalArgumentException(
          pathOf(key) + ": expected a " + type.getName() + ", got a " + value.getClass().getName());
    }
    return type.cast(value);
  }

  /**
   * Reads a duration as config files write it: a whole number with a unit, {@code ms},
   * {@code s}, {@code m}, {@code h} or {@code d} ({@code 500ms}, {@code 30s}, {@code 5m}),
   * or ISO-8601 ({@code PT1M30S}). Negative durations are refused.
   *
   * @throws IllegalArgumentException saying what is expected
   */
  public static Duration parseDuration(String text) {
    String trimmed = text.trim();
    Matcher simple = SIMPLE_DURATION.matcher(trimmed);
    Duration duration;
    if (simple.matches()) {
      long amount;
      try {
        amount = Long.parseLong(simple.group(1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("duration is too large");
      }
      switch (simple.group(2)) {
        case "ms": duration = Duration.ofMillis(amount); break;
        case "s": duration = Duration.ofSeconds(amount); break;
        case "m": duration = Duration.ofMinutes(amount); break;
        case "h": duration = Duration.ofHours(amount); break;
        default: duration = Duration.ofDays(amount); break;
      }
    } else if (trimmed.toUpperCase(Locale.ROOT).startsWith("P")) {
      try {
        duration = Duration.parse(trimmed);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("expected a duration such as 500ms, 30s, 5m or PT1M");
      }
    } else {
      throw new IllegalArgumentException("expected a duration such as 500ms, 30s, 5m or PT1M");
    }
    if (duration.isNegative()) {
      throw new IllegalArgumentException("duration must not be negative");
    }
    return duration;
  }

  private IllegalArgumentException bad(String key, String expected, Object value) {
    String shown = value instanceof String ? "'" + value + "'" : String.valueOf(value);
    return new IllegalArgumentException(pathOf(key) + ": " + expected + ", got " + shown);
  }

  /** Returns the path and the keys, without values (they may hold secrets). */
  @Override
  public String toString() {
    return "Settings" + (path.isEmpty() ? "" : "(" + path + ")") + values.keySet();
  }
}
