package org.proxykit.protocol.codecs;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.proxykit.api.spi.HeaderCodec;
import org.proxykit.api.spi.HeaderCodecProvider;
import org.proxykit.api.spi.Settings;

/**
 * The {@code Unicode} kind: any text, as UTF-8. Numbers and booleans are sent as their text.
 * Bytes that are not valid UTF-8 are refused. Decodes to a {@link String}.
 *
 * @since 0.1
 */
public final class UnicodeCodecProvider implements HeaderCodecProvider {
  /** Makes the provider; for {@link java.util.ServiceLoader}. */
  public UnicodeCodecProvider() {}

  @Override
  public String name() {
    return "Unicode";
  }

  @Override
  public HeaderCodec create(Settings settings) {
    settings.checkKnown(java.util.Set.of());
    return new HeaderCodec() {
      @Override
      public String kind() {
        return "Unicode";
      }

      @Override
      public byte[] encode(Object value) {
        String text = TextValues.text(value);
        try {
          ByteBuffer bytes = StandardCharsets.UTF_8.newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(java.nio.CharBuffer.wrap(text));
          byte[] array = new byte[bytes.remaining()];
          bytes.get(array);
          return array;
        } catch (CharacterCodingException e) {
          throw new IllegalArgumentException("a Unicode value must be well-formed text (lone surrogate)");
        }
      }

      @Override
      public Object decode(byte[] bytes) {
        try {
          return StandardCharsets.UTF_8.newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
          throw new IllegalArgumentException("a Unicode value must be UTF-8");
        }
      }
    };
  }
}
