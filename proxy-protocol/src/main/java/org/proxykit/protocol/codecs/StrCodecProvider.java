package org.proxykit.protocol.codecs;

import java.nio.charset.StandardCharsets;
import org.proxykit.api.spi.HeaderCodec;
import org.proxykit.api.spi.HeaderCodecProvider;
import org.proxykit.api.spi.Settings;

/**
 * The {@code Str} kind: text of Latin-1 characters, one byte each (WSGIProxy's byte strings).
 * Numbers and booleans are sent as their text; text with characters beyond Latin-1 is refused
 * (use {@code Unicode}). Decodes to a {@link String}.
 *
 * @since 0.1
 */
public final class StrCodecProvider implements HeaderCodecProvider {
  /** Makes the provider; for {@link java.util.ServiceLoader}. */
  public StrCodecProvider() {}

  @Override
  public String name() {
    return "Str";
  }

  @Override
  public HeaderCodec create(Settings settings) {
    settings.checkKnown(java.util.Set.of());
    return new HeaderCodec() {
      @Override
      public String kind() {
        return "Str";
      }

      @Override
      public byte[] encode(Object value) {
        String text = TextValues.text(value);
        for (int i = 0; i < text.length(); i++) {
          if (text.charAt(i) > 0xff) {
            throw new IllegalArgumentException("a Str value must be Latin-1 text; use Unicode");
          }
        }
        return text.getBytes(StandardCharsets.ISO_8859_1);
      }

      @Override
      public Object decode(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
      }
    };
  }
}
