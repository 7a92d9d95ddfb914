package org.proxykit.undertow;

/**
 * A mistake in proxykit's configuration: one line naming the file and the key path, such as
 * {@code proxykit.yaml: mounts[0].handler.type: unknown handler type 'ech' (known: echo, exact, forward)}.
 * The command line prints it and exits with status 2.
 *
 * @since 0.1
 */
public class ConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** Makes the exception with its one-line message. */
  public ConfigException(String message) {
    super(message);
  }
}
