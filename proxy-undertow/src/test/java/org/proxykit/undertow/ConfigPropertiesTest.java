package org.proxykit.undertow;

import java.nio.file.Path;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The config loader turns any text into a configuration or a one-line ConfigException, never another exception. */
class ConfigPropertiesTest {

  @Provide
  Arbitrary<String> yamlish() {
    Arbitrary<String> pieces = Arbitraries.of("server:", "mounts:", "listen:", " ", "\n", "  ", "- ", "{", "}", "[", "]",
        ":", ",", "'", "\"", "path: /", "handler:", "type: echo", "127.0.0.1:0", "http2: true", "limits:",
        "maxBodySize: 1KiB", "tls:", "cert: x", "&a", "*a", "!!binary", "~", "null", "1e400", "-1", "accessLog: off");
    return pieces.list().ofMaxSize(40).map(list -> String.join("", list));
  }

  @Property(tries = 3000)
  void anyTextIsAConfigOrAOneLineError(@ForAll("yamlish") String yaml) {
    check(yaml);
  }

  @Property(tries = 2000)
  void anyStringIsAConfigOrAOneLineError(@ForAll String text) {
    check(text);
  }

  private static void check(String text) {
    try {
      ProxykitConfig.parse(text, "t.yaml", Path.of("."));
    } catch (ConfigException refused) {
      assert !refused.getMessage().contains("\n") : "not one line: " + refused.getMessage();
    }
  }
}
