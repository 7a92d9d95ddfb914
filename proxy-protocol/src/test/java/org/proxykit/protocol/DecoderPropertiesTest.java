package org.proxykit.protocol;

import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.proxykit.api.HttpHeaders;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyStatusException;
import org.proxykit.api.spi.HeaderCodec;

/**
 * The decoders of what senders control return a value or a clear refusal for any input:
 * never another exception, never unbounded memory or time.
 */
class DecoderPropertiesTest {
  private static final Keys.Hmac KEY = Keys.hmac("0123456789abcdef0123456789abcdef-prop".getBytes(StandardCharsets.US_ASCII), null);
  private static final RequestVerifier VERIFIER = RequestVerifier.builder(List.of(KEY)).build();

  @Provide
  Arbitrary<String> headerValues() {
    return Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(200);
  }

  @Provide
  Arbitrary<String> kinds() {
    return Arbitraries.of("Str", "Unicode", "Json", "Kryo", "str", "Pickle");
  }

  @Property(tries = 3000)
  void attributeHeadersDecodeOrRefuse(@ForAll("kinds") String kind, @ForAll("headerValues") String value) {
    HttpHeaders headers = HttpHeaders.of("X-WSGIProxy-" + kind + "-0", value);
    try {
      AttributeHeaders.decode(headers, AttributeHeadersTest.CODECS, true);
    } catch (ProxyStatusException refused) {
      assert refused.status() == 400 || refused.status() == 403 : refused;
    }
  }

  @Property(tries = 3000)
  void everyCodecDecodesArbitraryBytesOrRefuses(@ForAll("kinds") String kind, @ForAll @Size(max = 512) byte[] bytes) {
    HeaderCodec codec = AttributeHeadersTest.CODECS.get(kind);
    if (codec == null) {
      return;
    }
    try {
      codec.decode(bytes);
    } catch (IllegalArgumentException refused) {
      // a clear refusal
    }
  }

  @Property(tries = 3000)
  void structuredFieldsParseOrRefuse(@ForAll String text) {
    try {
      StructuredFields.dictionary(text);
    } catch (IllegalArgumentException refused) {
      // a clear refusal
    }
  }

  @Property(tries = 2000)
  void anyForgedSignatureHeaderIs401(@ForAll("headerValues") String input, @ForAll("headerValues") String signature) {
    ProxyRequest request = ProxyRequest.blank("http://h/").toBuilder()
        .header("Signature-Input", input).header("Signature", signature).build();
    try {
      VERIFIER.verify(request);
      throw new AssertionError("a forged signature verified: " + input + " / " + signature);
    } catch (ProxyStatusException refused) {
      assert refused.status() == 401 : refused;
    }
  }

  @Property(tries = 1000)
  void aSignatureInputShapedLikeOursButForgedIs401(@ForAll @Size(max = 20) List<@net.jqwik.api.constraints.AlphaChars String> names,
      @ForAll long created, @ForAll("headerValues") String nonce) {
    StringBuilder input = new StringBuilder("wsgiproxy=(");
    for (String name : names) {
      input.append('"').append(name.toLowerCase()).append("\" ");
    }
    input.append(");created=").append(created).append(";keyid=\"").append(KEY.keyId()).append("\";nonce=\"")
        .append(nonce.replace("\"", "").replace("\\\\", "")).append('"');
    ProxyRequest request = ProxyRequest.blank("http://h/").toBuilder()
        .header("Signature-Input", input.toString()).header("Signature", "wsgiproxy=:AAAA:").build();
    try {
      VERIFIER.verify(request);
      throw new AssertionError("verified: " + input);
    } catch (ProxyStatusException refused) {
      assert refused.status() == 401 : refused;
    }
  }
}
