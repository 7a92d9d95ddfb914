package org.proxykit.protocol.codecs;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import java.util.List;
import java.util.Set;
import org.proxykit.api.spi.HeaderCodec;
import org.proxykit.api.spi.HeaderCodecProvider;
import org.proxykit.api.spi.Settings;

/**
 * The {@code Kryo} kind: Java objects as Kryo 5 bytes, for values no text kind can carry.
 * Registration is required: only the classes listed in {@code classes} (both sides list the
 * same ones, in the same order, since order assigns the IDs) and Kryo's built-in types
 * (primitives, their boxes, {@code String}) can be written or read; bytes naming any other
 * class are refused before an instance is made. Values are accepted from trusted senders
 * only. Settings: {@code classes} (list of class names), {@code maxBytes} (default 64 KiB),
 * {@code maxDepth} (default 32). A declared length (string, array, collection, map) larger
 * than the bytes left to read is refused before anything is allocated for it.
 *
 * @since 0.1
 */
public final class KryoCodecProvider implements HeaderCodecProvider {
  /** Makes the provider; for {@link java.util.ServiceLoader}. */
  public KryoCodecProvider() {}

  @Override
  public String name() {
    return "Kryo";
  }

  @Override
  public HeaderCodec create(Settings settings) {
    settings.checkKnown(Set.of("classes", "maxBytes", "maxDepth"));
    List<String> classNames = settings.strings("classes");
    int maxBytes = (int) Math.min(Integer.MAX_VALUE, settings.size("maxBytes", 64 * 1024));
    int maxDepth = settings.integer("maxDepth", 32);
    List<Class<?>> classes = new java.util.ArrayList<>();
    for (int i = 0; i < classNames.size(); i++) {
      try {
        classes.add(Class.forName(classNames.get(i), false, KryoCodecProvider.class.getClassLoader()));
      } catch (ClassNotFoundException | LinkageError e) {
        throw new IllegalArgumentException(settings.pathOf("classes") + "[" + i + "]: no class '" + classNames.get(i) + "'");
      }
    }
    Pool<Kryo> pool = new Pool<>(true, false, 16) {
      @Override
      protected Kryo create() {
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(true);
        kryo.setReferences(false);
        kryo.setMaxDepth(maxDepth);
        for (Class<?> type : classes) {
          if (java.util.Collection.class.isAssignableFrom(type)) {
            kryo.register(type, new BoundedCollectionSerializer());
          } else if (java.util.Map.class.isAssignableFrom(type)) {
            kryo.register(type, new BoundedMapSerializer());
          } else {
            kryo.register(type);
          }
        }
        return kryo;
      }
    };
    return new HeaderCodec() {
      @Override
      public String kind() {
        return "Kryo";
      }

      @Override
      public boolean requiresTrustedSender() {
        return true;
      }

      @Override
      public byte[] encode(Object value) {
        Kryo kryo = pool.obtain();
        try (Output output = new Output(256, maxBytes)) {
          kryo.writeClassAndObject(output, value);
          return output.toBytes();
        } catch (KryoException | IllegalArgumentException e) {
          throw new IllegalArgumentException("cannot write with Kryo: " + firstLine(e));
        } finally {
          pool.free(kryo);
        }
      }

      @Override
      public Object decode(byte[] bytes) {
        if (bytes.length > maxBytes) {
          throw new IllegalArgumentException("Kryo value larger than " + maxBytes + " bytes");
        }
        Kryo kryo = pool.obtain();
        try (Input input = new BoundedInput(bytes)) {
          Object value = kryo.readClassAndObject(input);
          if (value == null) {
            throw new IllegalArgumentException("null is not an attribute value");
          }
          return value;
        } catch (KryoException | IllegalArgumentException e) {
          throw new IllegalArgumentException("cannot read Kryo value: " + firstLine(e));
        } finally {
          pool.free(kryo);
        }
      }
    };
  }

  /**
   * Refuses a collection that declares more elements than bytes remain in the input (each
   * element takes at least one), before allocating room for them: a tiny payload cannot
   * claim a billion elements.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  static final class BoundedCollectionSerializer extends com.esotericsoftware.kryo.serializers.CollectionSerializer {
    @Override
    protected java.util.Collection create(Kryo kryo, Input input, Class type, int size) {
      checkSize(input, size);
      return super.create(kryo, input, type, size);
    }
  }

  /** As {@link BoundedCollectionSerializer}, for maps (two entries' worth of bytes each). */
  @SuppressWarnings({"rawtypes", "unchecked"})
  static final class BoundedMapSerializer extends com.esotericsoftware.kryo.serializers.MapSerializer {
    @Override
    protected java.util.Map create(Kryo kryo, Input input, Class type, int size) {
      checkSize(input, size * 2L);
      return super.create(kryo, input, type, size);
    }
  }

  private static void checkSize(Input input, long elements) {
    long remaining = input.limit() - input.position();
    if (elements < 0 || elements > remaining) {
      throw new KryoException("declares " + elements + " elements in " + remaining + " bytes");
    }
  }
  // strings and arrays are bounded by BoundedInput

  private static String firstLine(Exception e) {
    String message = String.valueOf(e.getMessage());
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
