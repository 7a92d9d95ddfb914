package org.proxykit.undertow;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.ProxyRequest;
import org.proxykit.api.ProxyResponse;
import org.proxykit.api.spi.Settings;
import org.proxykit.app.ProxyApp;
import org.proxykit.exact.ExactProxy;
import org.proxykit.middleware.ProxyMiddleware;
import org.proxykit.protocol.HeaderCodecs;
import org.proxykit.protocol.Keys;
import org.proxykit.protocol.RequestVerifier;
import org.proxykit.protocol.SigningKey;
import org.proxykit.protocol.VerificationKey;

/** The handler types of the app-to-middleware protocol: {@code app} and {@code middleware}. */
final class ProtocolFactories {
  private static final Set<String> APP_KEYS = Set.of("href", "signing", "keys", "codecs", "attributes",
      "standardHeaders", "forwarded", "rewriteRedirects");

  private ProtocolFactories() {}

  /**
   * {@code {type: app, href: URL, signing: {hmacSecretFile | ed25519PrivateKeyFile, keyId},
   * keys: {str: [..], unicode: [..], json: [..], kryo: [..]}, attributes: {name: value},
   * codecs: {Kryo: {classes: [..]}}, standardHeaders, forwarded, rewriteRedirects,
   * transport and its settings}}.
   */
  static final class App implements HandlerFactory {
    @Override
    public String name() {
      return "app";
    }

    @Override
    public ProxyHandler create(Settings settings, HandlerContext context) {
      String href = settings.string("href", null);
      if (href == null) {
        throw new IllegalArgumentException(settings.pathOf("href") + ": missing");
      }
      Settings transport = settings;
      for (String key : APP_KEYS) {
        transport = transport.without(key);
      }
      HeaderCodecs codecs = codecs(settings.nested("codecs"));
      ProxyApp.Builder app;
      try {
        app = ProxyApp.builder(href);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(settings.pathOf("href") + ": " + e.getMessage());
      }
      app.codecs(codecs)
          .standardForwardedHeaders(settings.bool("standardHeaders", true))
          .forwardedHeader(settings.bool("forwarded", true))
          .rewriteRedirects(settings.bool("rewriteRedirects", false));
      Settings keys = settings.nested("keys");
      for (String kind : keys.keys()) {
        if (codecs.get(kind) == null) {
          throw new IllegalArgumentException(keys.pathOf(kind) + ": no attribute kind '" + kind + "' (known: "
              + String.join(", ", codecs.kinds()) + ")");
        }
        app.keys(kind, keys.strings(kind));
      }
      if (settings.has("signing")) {
        app.signingKey(signingKey(settings.nested("signing"), context));
      }
      Map<String, Object> attributes = new LinkedHashMap<>(settings.nested("attributes").asMap());
      ExactProxy exact = BuiltInFactories.exactProxy(transport);
      app.exact(exact);
      ProxyApp built;
      try {
        built = app.build();
      } catch (IllegalArgumentException e) {
        closeQuietly(exact);
        throw new IllegalArgumentException(settings.path() + "." + e.getMessage());
      }
      context.closeOnStop(exact);
      return attributes.isEmpty() ? built : new WithAttributes(attributes, built);
    }

    private static SigningKey signingKey(Settings signing, HandlerContext context) {
      signing.checkKnown(Set.of("hmacSecretFile", "ed25519PrivateKeyFile", "keyId"));
      String keyId = signing.string("keyId", null);
      String hmac = signing.string("hmacSecretFile", null);
      String ed25519 = signing.string("ed25519PrivateKeyFile", null);
      if ((hmac == null) == (ed25519 == null)) {
        throw new IllegalArgumentException(signing.path() + ": set one of hmacSecretFile and ed25519PrivateKeyFile");
      }
      try {
        return hmac != null ? Keys.hmacSecretFile(context.file(hmac), keyId)
            : Keys.ed25519PrivateKey(context.file(ed25519), keyId);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(signing.pathOf(hmac != null ? "hmacSecretFile" : "ed25519PrivateKeyFile")
            + ": " + e.getMessage());
      }
    }
  }

  /**
   * {@code {type: middleware, trust: {hmacSecretFile: [..], ed25519PublicKeyFile: [..], ips: [..],
   * requireSignature, maxAge, skew}, codecs, prefix, popPrefix, scheme, host, domain, port, next}}.
   */
  static final class Middleware implements HandlerFactory {
    @Override
    public String name() {
      return "middleware";
    }

    @Override
    public ProxyHandler create(Settings settings, HandlerContext context) {
      settings.checkKnown(Set.of("trust", "codecs", "prefix", "popPrefix", "scheme", "host", "domain", "port", "next"));
      if (!settings.has("next")) {
        throw new IllegalArgumentException(settings.pathOf("next") + ": missing (the handler to wrap)");
      }
      ProxyHandler next = context.create(settings.nested("next"));
      ProxyMiddleware.Builder middleware = ProxyMiddleware.builder(next).codecs(codecs(settings.nested("codecs")));
      Settings trust = settings.nested("trust")
          .checkKnown(Set.of("hmacSecretFile", "ed25519PublicKeyFile", "ips", "requireSignature", "maxAge", "skew"));
      List<VerificationKey> keys = new ArrayList<>();
      List<String> hmacFiles = trust.strings("hmacSecretFile");
      for (int i = 0; i < hmacFiles.size(); i++) {
        keys.add(key(trust, "hmacSecretFile", i, hmacFiles, name -> Keys.hmacSecretFile(context.file(name), null)));
      }
      List<String> publicFiles = trust.strings("ed25519PublicKeyFile");
      for (int i = 0; i < publicFiles.size(); i++) {
        keys.add(key(trust, "ed25519PublicKeyFile", i, publicFiles, name -> Keys.ed25519PublicKey(context.file(name), null)));
      }
      // checked even without keys, so a mistake there is not silent
      Duration maxAge = positive(trust, "maxAge", Duration.ofSeconds(60));
      Duration skew = positive(trust, "skew", Duration.ofSeconds(5));
      if (!keys.isEmpty()) {
        middleware.verifier(RequestVerifier.builder(keys).maxAge(maxAge).skew(skew).build());
      }
      middleware.requireSignature(trust.bool("requireSignature", true));
      try {
        if (trust.has("ips")) {
          middleware.trustedIps(trust.strings("ips"));
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(trust.pathOf("ips") + e.getMessage());
      }
      try {
        if (settings.has("prefix")) {
          middleware.prefix(settings.string("prefix", null));
        }
        if (settings.has("popPrefix")) {
          middleware.popPrefix(settings.string("popPrefix", null));
        }
        if (settings.has("scheme")) {
          middleware.scheme(settings.string("scheme", null));
        }
        if (settings.has("host")) {
          middleware.host(settings.string("host", null));
        }
        if (settings.has("domain")) {
          middleware.domain(settings.string("domain", null));
        }
        if (settings.has("port")) {
          middleware.port(settings.integer("port", 0));
        }
        return middleware.build();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(settings.path() + ": " + e.getMessage());
      }
    }

    private static VerificationKey key(Settings trust, String key, int index, List<String> files,
        java.util.function.Function<String, VerificationKey> load) {
      try {
        return load.apply(files.get(index));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(trust.pathOf(key) + (files.size() > 1 ? "[" + index + "]" : "") + ": "
            + e.getMessage());
      }
    }

    private static Duration positive(Settings settings, String key, Duration fallback) {
      return Durations.positive(settings, key, fallback);
    }
  }

  /** {@code codecs: {Kryo: {classes: [..]}}}: settings per attribute kind. */
  static HeaderCodecs codecs(Settings codecs) {
    Map<String, Settings> byKind = new LinkedHashMap<>();
    for (String kind : codecs.keys()) {
      byKind.put(kind, codecs.nested(kind));
    }
    try {
      return HeaderCodecs.load(byKind, ProtocolFactories.class.getClassLoader());
    } catch (IllegalArgumentException e) {
      throw e.getMessage().startsWith(codecs.path()) ? e : new IllegalArgumentException(codecs.path() + "." + e.getMessage());
    }
  }

  private static void closeQuietly(ExactProxy exact) {
    try {
      exact.close();
    } catch (IOException ignored) {
      // nothing was sent through it
    }
  }

  /** Adds attributes from the configuration to every request, for the app to pass on. */
  static final class WithAttributes implements ProxyHandler {
    private final Map<String, Object> attributes;
    private final ProxyHandler next;

    WithAttributes(Map<String, Object> attributes, ProxyHandler next) {
      this.attributes = Map.copyOf(attributes);
      this.next = next;
    }

    @Override
    public ProxyResponse handle(ProxyRequest request) throws IOException {
      ProxyRequest.Builder withAttributes = request.toBuilder();
      attributes.forEach(withAttributes::attribute);
      return next.handle(withAttributes.build());
    }

    @Override
    public String toString() {
      return next + " with attributes " + attributes.keySet();
    }
  }
}
