package org.proxykit.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HttpHeadersTest {

  @Test
  void namesAreCaseInsensitiveButKeepTheirSpelling() {
    HttpHeaders headers = HttpHeaders.of("Content-Type", "text/plain", "X-Custom", "a");
    assertEquals("text/plain", headers.first("content-type"));
    assertEquals("text/plain", headers.first("CONTENT-TYPE"));
    assertTrue(headers.contains("x-CUSTOM"));
    assertEquals("Content-Type", headers.name(0));
    assertNull(headers.first("Missing"));
    assertEquals(List.of(), headers.all("Missing"));
  }

  @Test
  void repeatedFieldsKeepEveryValueInOrderEvenAcrossSpellings() {
    HttpHeaders headers = HttpHeaders.builder()
        .add("Set-Cookie", "a=1").add("Vary", "Accept").add("set-cookie", "b=2").add("SET-COOKIE", "c=3")
        .build();
    assertEquals(List.of("a=1", "b=2", "c=3"), headers.all("Set-Cookie"));
    assertEquals(4, headers.size());
    assertEquals(Set.of("Set-Cookie", "Vary"), headers.names());
    assertEquals(List.of("Set-Cookie", "Vary"), new ArrayList<>(headers.names()));
    assertEquals(Map.of("Set-Cookie", List.of("a=1", "b=2", "c=3"), "Vary", List.of("Accept")), headers.toMap());

    List<String> seen = new ArrayList<>();
    headers.forEach((name, value) -> seen.add(name + "=" + value));
    assertEquals(List.of("Set-Cookie=a=1", "Vary=Accept", "set-cookie=b=2", "SET-COOKIE=c=3"), seen);
  }

  @Test
  void setReplacesEveryValueAndRemoveDropsEveryValue() {
    HttpHeaders headers = HttpHeaders.of("A", "1", "B", "x", "a", "2");
    HttpHeaders set = headers.toBuilder().set("a", "3").build();
    assertEquals(List.of("3"), set.all("A"));
    assertEquals("B", set.name(0));
    HttpHeaders removed = headers.toBuilder().remove("A").build();
    assertEquals(1, removed.size());
    assertFalse(removed.contains("a"));
    assertEquals(3, headers.size(), "the original is unchanged");
  }

  @Test
  void equalityIgnoresNameCaseButNotOrderOrValueCase() {
    assertEquals(HttpHeaders.of("A", "x"), HttpHeaders.of("a", "x"));
    assertEquals(HttpHeaders.of("A", "x").hashCode(), HttpHeaders.of("a", "x").hashCode());
    assertFalse(HttpHeaders.of("A", "x").equals(HttpHeaders.of("A", "X")));
    assertFalse(HttpHeaders.of("A", "1", "B", "2").equals(HttpHeaders.of("B", "2", "A", "1")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "Bad Name", "Bad:Name", "Bad\r\nName", "Na\u0000me", "(x)", "caf\u00e9"})
  void illegalNamesAreRefused(String name) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HttpHeaders.of(name, "v"));
    assertTrue(e.getMessage().startsWith("header name"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\rb", "a\nb", "a\r\nX-Injected: 1", "a\u0000b", "a\u0007b", "a\u007fb", "\u20ac"})
  void illegalValuesAreRefusedNamingTheHeader(String value) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HttpHeaders.builder().add("X-Test", value));
    assertTrue(e.getMessage().startsWith("value of header X-Test has an illegal character"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> HttpHeaders.builder().set("X-Test", value));
  }

  @Test
  void legalValuesIncludeTabsSpacesAndLatin1Bytes() {
    HttpHeaders headers = HttpHeaders.of("X", "a\tb c \u00e9\u00ff", "Empty", "");
    assertEquals("a\tb c \u00e9\u00ff", headers.first("x"));
    assertEquals("", headers.first("empty"));
  }

  @Test
  void ofNeedsPairs() {
    assertThrows(IllegalArgumentException.class, () -> HttpHeaders.of("A"));
  }
}
