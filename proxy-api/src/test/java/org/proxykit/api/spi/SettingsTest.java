package org.proxykit.api.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SettingsTest {
  private final Settings settings = Settings.of("mounts[0].handler", Map.of(
      "timeout", "30s", "count", 12, "countText", "7", "flag", true, "name", "jdk",
      "list", List.of("a", "b"), "nested", Map.of("key", "value"), "duration", Duration.ofMillis(5)));

  @ParameterizedTest
  @CsvSource({"500ms, PT0.5S", "30s, PT30S", "5m, PT5M", "2h, PT2H", "1d, PT24H", "PT1M30S, PT1M30S", "pt2s, PT2S", "0s, PT0S"})
  void durationsReadAsConfigFilesWriteThem(String text, String iso) {
    assertEquals(Duration.parse(iso), Settings.parseDuration(text));
  }

  @ParameterizedTest
  @ValueSource(strings = {"30", "5 minutes", "-5s", "s", "1.5s", "PT-5S", "P"})
  void badDurationsAreRefused(String text) {
    assertThrows(IllegalArgumentException.class, () -> Settings.parseDuration(text));
  }

  @Test
  void typedGettersConvertAndFallBack() {
    assertEquals(Duration.ofSeconds(30), settings.duration("timeout", null));
    assertEquals(Duration.ofMillis(5), settings.duration("duration", null));
    assertEquals(Duration.ofSeconds(1), settings.duration("missing", Duration.ofSeconds(1)));
    assertEquals(12, settings.integer("count", 0));
    assertEquals(7, settings.integer("countText", 0));
    assertEquals(3, settings.integer("missing", 3));
    assertEquals(true, settings.bool("flag", false));
    assertEquals("jdk", settings.string("name", null));
    assertNull(settings.string("missing", null));
    assertEquals(List.of("a", "b"), settings.strings("list"));
    assertEquals(List.of("jdk"), settings.strings("name"));
    assertEquals(List.of(), settings.strings("missing"));
    assertEquals("value", settings.nested("nested").string("key", null));
    assertEquals("mounts[0].handler.nested", settings.nested("nested").path());
  }

  @Test
  void errorsNameTheFullKeyPathAndTheBadValue() {
    assertMessage("mounts[0].handler.name: expected a duration such as 500ms, 30s, 5m or PT1M, got 'jdk'",
        () -> settings.duration("name", null));
    assertMessage("mounts[0].handler.name: expected an integer, got 'jdk'", () -> settings.integer("name", 0));
    assertMessage("mounts[0].handler.count: expected true or false, got 12", () -> settings.bool("count", false));
    assertMessage("mounts[0].handler.nested.key: expected an integer, got 'value'",
        () -> settings.nested("nested").integer("key", 0));
    assertMessage("mounts[0].handler.list: expected a map of settings, got [a, b]", () -> settings.nested("list"));
    assertMessage("mounts[0].handler.name: expected a javax.net.ssl.SSLContext, got a java.lang.String",
        () -> settings.instance("name", javax.net.ssl.SSLContext.class, null));
  }

  @Test
  void negativeDurationObjectsAreRefused() {
    Settings negative = Settings.of("t", Map.of("timeout", Duration.ofSeconds(-1)));
    assertMessage("t.timeout: duration must not be negative, got PT-1S", () -> negative.duration("timeout", null));
  }

  @Test
  void unknownKeysAreRefusedListingTheKnownOnes() {
    Settings transport = Settings.of("transport", Map.of("connectTimout", "1s"));
    assertMessage("transport.connectTimout: unknown key (known: connectTimeout, responseTimeout)",
        () -> transport.checkKnown(Set.of("responseTimeout", "connectTimeout")));
  }

  @Test
  void withAddsAValueToACopy() {
    Settings empty = Settings.empty();
    Settings one = empty.with("a", 1);
    assertEquals(Set.of(), empty.keys());
    assertEquals(1, one.integer("a", 0));
    Object context = new Object();
    assertSame(context, one.with("ctx", context).instance("ctx", Object.class, null));
  }

  @Test
  void nullValuesAreRefused() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("a", null);
    assertThrows(IllegalArgumentException.class, () -> Settings.of(map));
  }

  @Test
  void sizesReadWithBinaryUnits() {
    Settings sizes = Settings.of("limits", Map.of("a", "16KiB", "b", "10MiB", "c", "1g", "d", 512, "e", "100",
        "f", "2 GB", "bad", "ten", "neg", -1));
    assertEquals(16384, sizes.size("a", 0));
    assertEquals(10L << 20, sizes.size("b", 0));
    assertEquals(1L << 30, sizes.size("c", 0));
    assertEquals(512, sizes.size("d", 0));
    assertEquals(100, sizes.size("e", 0));
    assertEquals(2L << 30, sizes.size("f", 0));
    assertEquals(7, sizes.size("missing", 7));
    assertMessage("limits.bad: expected a size such as 16KiB, 10MiB or 1GiB, got 'ten'", () -> sizes.size("bad", 0));
    assertMessage("limits.neg: expected a size such as 16KiB, 10MiB or 1GiB, got -1", () -> sizes.size("neg", 0));
  }

  @Test
  void withoutDropsOneKey() {
    Settings handler = Settings.of("h", Map.of("type", "echo", "x", 1));
    assertEquals(Set.of("x"), handler.without("type").keys());
    assertEquals("h", handler.without("type").path());
  }

  @Test
  void toStringHidesValues() {
    assertEquals("Settings(t)[secret]", Settings.of("t", Map.of("secret", "hunter2")).toString());
  }

  private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable executable) {
    assertEquals(expected, assertThrows(IllegalArgumentException.class, executable).getMessage());
  }
}
