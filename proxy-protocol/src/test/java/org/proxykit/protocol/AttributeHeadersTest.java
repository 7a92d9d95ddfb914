package org.proxykit.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.Settings;

class AttributeHeadersTest {
  static final HeaderCodecs CODECS = HeaderCodecs.load(
      Map.of("Kryo", Settings.of("Kryo", Map.of("classes", List.of("java.util.ArrayList", "java.util.HashMap")))),
      AttributeHeadersTest.class.getClassLoader());

  @ParameterizedTest
  @ValueSource(strings = {"", "plain", "b64", "b64AAAA", " leading", "trailing ", "a\r\nX-Injected: 1", "nul\u0000byte",
      "tab\there", "caf\u00e9", "\u00ff\u00fe"})
  void strValuesRoundTripAndAreEscapedWhenTheyMustBe(String value) throws Exception {
    assertRoundTrip("Str", value);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "plain", "b64 looks escaped", " spaces ", "line\nbreak", "\u65e5\u672c\u8a9e", "emoji \ud83d\ude00"})
  void unicodeValuesRoundTrip(String value) throws Exception {
    assertRoundTrip("Unicode", value);
  }

  @Test
  void jsonValuesRoundTripLargeOnesToo() throws Exception {
    Map<String, Object> large = new LinkedHashMap<>();
    for (int i = 0; i < 500; i++) {
      large.put("key" + i, List.of(i, "v\u00e9" + i, true));
    }
    assertRoundTrip("Json", large);
    assertRoundTrip("Json", List.of("a", 1, 2.5, false));
    assertRoundTrip("Json", "just text");
  }

  @Test
  void kryoValuesOfRegisteredClassesRoundTripFromTrustedSenders() throws Exception {
    ArrayList<Object> list = new ArrayList<>(List.of("x", 1, 2L));
    assertRoundTrip("Kryo", list);
    HashMap<String, Object> map = new HashMap<>(Map.of("k", "v"));
    assertRoundTrip("Kryo", map);
  }

  @Test
  void kindSettingsApplyWhateverCaseTheKindIsWrittenIn() throws Exception {
    HeaderCodecs lowerCase = HeaderCodecs.load(
        Map.of("kryo", Settings.of("kryo", Map.of("classes", List.of("java.util.ArrayList")))),
        AttributeHeadersTest.class.getClassLoader());
    HttpHeaders.Builder headers = HttpHeaders.builder();
    AttributeHeaders.encode(Map.of("list", new ArrayList<>(List.of(1))), Map.of("Kryo", List.of("list")), lowerCase, headers);
    assertEquals(Map.of("list", List.of(1)), AttributeHeaders.decode(headers.build(), lowerCase, true));
  }

  @Test
  void kryoFromAnUntrustedSenderIs403() throws Exception {
    HttpHeaders.Builder headers = HttpHeaders.builder();
    AttributeHeaders.encode(Map.of("obj", new ArrayList<>(List.of(1))), Map.of("Kryo", List.of("obj")), CODECS, headers);
    ProxyStatusException e = assertThrows(ProxyStatusException.class,
        () -> AttributeHeaders.decode(headers.build(), CODECS, false));
    assertEquals(403, e.status());
    assertEquals("X-WSGIProxy-Kryo-0: Kryo attributes are accepted from a trusted sender only", e.reason());
  }

  @Test
  void kryoBytesNamingAnUnregisteredClassAreRefusedWithoutMakingAnInstance() throws Exception {
    Kryo attacker = new Kryo();
    attacker.setRegistrationRequired(false);
    Output output = new Output(256, -1);
    attacker.writeClassAndObject(output, new Gadget());
    int before = Gadget.instances;
    HttpHeaders headers = HttpHeaders.of("X-WSGIProxy-Kryo-0",
        "evil b64" + Base64.getEncoder().encodeToString(output.toBytes()));
    ProxyStatusException e = assertThrows(ProxyStatusException.class,
        () -> AttributeHeaders.decode(headers, CODECS, true));
    assertEquals(400, e.status());
    assertTrue(e.reason().startsWith("X-WSGIProxy-Kryo-0: cannot read Kryo value: "), e.reason());
    assertEquals(before, Gadget.instances, "an instance of the unregistered class was made");
  }

  @Test
  void aTinyKryoPayloadDeclaringAHugeCollectionIsRefusedWithoutAllocatingIt() {
    Output output = new Output(64, -1);
    output.writeVarInt(1 + 10, true);        // class id of java.util.ArrayList (first registered, after the built-ins)
    output.writeVarInt(Integer.MAX_VALUE - 8, true);  // declared size
    byte[] payload = output.toBytes();
    assertTrue(payload.length < 16);
    HttpHeaders headers = HttpHeaders.of("X-WSGIProxy-Kryo-0", "big b64" + Base64.getEncoder().encodeToString(payload));
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> AttributeHeaders.decode(headers, CODECS, true));
    assertEquals(400, e.status());
    assertTrue(e.reason().matches("X-WSGIProxy-Kryo-0: cannot read Kryo value: declares \\d+ elements in \\d+ bytes"),
        e.reason());
  }

  @Test
  void aTinyKryoPayloadDeclaringAHugeStringIsRefusedWithoutAllocatingIt() {
    Output output = new Output(64, -1);
    output.writeVarInt(1 + 2, true);                          // class id of String, a built-in registration
    output.writeVarIntFlag(true, Integer.MAX_VALUE - 16, true);  // a UTF-8 string of two billion characters
    HttpHeaders headers = HttpHeaders.of("X-WSGIProxy-Kryo-0",
        "big b64" + Base64.getEncoder().encodeToString(output.toBytes()));
    long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    ProxyStatusException e = assertThrows(ProxyStatusException.class, () -> AttributeHeaders.decode(headers, CODECS, true));
    assertEquals(400, e.status());
    long grown = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory() - before;
    assertTrue(grown < 64L << 20, "decoding allocated " + (grown >> 20) + " MiB");
  }

  @Test
  void encodingAnUnregisteredKryoClassIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttributeHeaders.encode(
        Map.of("obj", new Gadget()), Map.of("Kryo", List.of("obj")), CODECS, HttpHeaders.builder()));
    assertTrue(e.getMessage().startsWith("attribute obj as Kryo: cannot write with Kryo: "), e.getMessage());
  }

  @Test
  void keysArePercentEncodedAndNumberedPerKind() throws Exception {
    HttpHeaders.Builder headers = HttpHeaders.builder();
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put("REMOTE_USER", "bob");
    attributes.put("key with space/\u00e9%", "x");
    attributes.put("count", 3);
    Map<String, List<String>> kinds = new LinkedHashMap<>();
    kinds.put("Str", List.of("REMOTE_USER", "missing", "key with space/\u00e9%"));
    kinds.put("Json", List.of("count"));
    AttributeHeaders.encode(attributes, kinds, CODECS, headers);
    assertEquals(HttpHeaders.of(
        "X-WSGIProxy-Str-0", "REMOTE_USER bob",
        "X-WSGIProxy-Str-2", "key%20with%20space/%C3%A9%25 x",
        "X-WSGIProxy-Json-0", "count 3"), headers.build());
    assertEquals(attributes, AttributeHeaders.decode(headers.build(), CODECS, false));
  }

  @Test
  void anUnknownKindOrABadValueIs400NamingTheHeader() {
    ProxyStatusException kind = assertThrows(ProxyStatusException.class,
        () -> AttributeHeaders.decode(HttpHeaders.of("X-WSGIProxy-Pickle-0", "k v"), CODECS, true));
    assertEquals("X-WSGIProxy-Pickle-0: unknown attribute kind 'Pickle'", kind.reason());
    ProxyStatusException json = assertThrows(ProxyStatusException.class,
        () -> AttributeHeaders.decode(HttpHeaders.of("X-WSGIProxy-Json-0", "k {broken"), CODECS, true));
    assertEquals("X-WSGIProxy-Json-0: not valid JSON", json.reason());
    ProxyStatusException b64 = assertThrows(ProxyStatusException.class,
        () -> AttributeHeaders.decode(HttpHeaders.of("X-WSGIProxy-Str-0", "k b64!!!"), CODECS, true));
    assertEquals("X-WSGIProxy-Str-0: value is not valid base64 after b64", b64.reason());
  }

  @Test
  void wireFormatMatchesWsgiProxy() {
    assertEquals("hello", AttributeHeaders.escape("hello".getBytes(StandardCharsets.US_ASCII)));
    assertEquals("b64YjY0eA==", AttributeHeaders.escape("b64x".getBytes(StandardCharsets.US_ASCII)));
    assertEquals("b64IGxlYWRpbmc=", AttributeHeaders.escape(" leading".getBytes(StandardCharsets.US_ASCII)));
    assertEquals("b64Y2Fm6Q==", AttributeHeaders.escape("caf\u00e9".getBytes(StandardCharsets.ISO_8859_1)));
  }

  private static void assertRoundTrip(String kind, Object value) throws Exception {
    HttpHeaders.Builder headers = HttpHeaders.builder();
    AttributeHeaders.encode(Map.of("k", value), Map.of(kind, List.of("k")), CODECS, headers);
    HttpHeaders built = headers.build();
    assertEquals(1, built.size());
    String header = built.value(0);
    assertTrue(header.chars().allMatch(c -> c >= 0x20 && c < 0x7f), "header value must be printable ASCII: " + header);
    assertEquals(Map.of("k", value), AttributeHeaders.decode(built, CODECS, true));
  }

  /** A class no allow-list names; counts its instances. */
  static final class Gadget {
    static int instances;

    Gadget() {
      instances++;
    }
  }
}
