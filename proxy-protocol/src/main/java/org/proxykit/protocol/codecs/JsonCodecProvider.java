package org.proxykit.protocol.codecs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Set;
import org.proxykit.api.spi.HeaderCodec;
import org.proxykit.api.spi.HeaderCodecProvider;
import org.proxykit.api.spi.Settings;

/**
 * The {@code Json} kind: any value Jackson can write (maps, lists, strings, numbers, booleans,
 * beans), as JSON text. Decodes to plain Java: {@code Map}, {@code List}, {@code String},
 * numbers, {@code Boolean}; a top-level JSON {@code null} is refused, since attributes are
 * never null. Settings: {@code maxDepth} (default 32) limits nesting when decoding.
 *
 * @since 0.1
 */
public final class JsonCodecProvider implements HeaderCodecProvider {
  /** Makes the provider; for {@link java.util.ServiceLoader}. */
  public JsonCodecProvider() {}

  @Override
  public String name() {
    return "Json";
  }

  @Override
  public HeaderCodec create(Settings settings) {
    settings.checkKnown(Set.of("maxDepth"));
    int maxDepth = settings.integer("maxDepth", 32);
    ObjectMapper json = new ObjectMapper(JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(maxDepth).build()).build())
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    return new HeaderCodec() {
      @Override
      public String kind() {
        return "Json";
      }

      @Override
      public byte[] encode(Object value) {
        try {
          return json.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
          throw new IllegalArgumentException("cannot write as JSON: " + e.getOriginalMessage());
        }
      }

      @Override
      public Object decode(byte[] bytes) {
        Object value;
        try {
          value = json.readValue(bytes, Object.class);
        } catch (IOException e) {
          throw new IllegalArgumentException("not valid JSON");
        }
        if (value == null) {
          throw new IllegalArgumentException("JSON null is not an attribute value");
        }
        return value;
      }
    };
  }
}
