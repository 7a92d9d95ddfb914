package org.proxykit.undertow;

import com.google.inject.AbstractModule;
import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.ProvisionException;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;
import com.google.inject.spi.Message;
import com.google.inject.util.Modules;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.proxykit.api.ProxyHandler;
import org.proxykit.api.spi.ProviderRegistry;

/**
 * The composition root: Guice modules that turn a {@link ProxykitConfig} into a
 * {@link ProxykitServer}. One module per concern: the configuration, the handler types
 * (built in, found with {@link java.util.ServiceLoader}, or contributed with a
 * {@code Multibinder<HandlerFactory>}), and the server. Embed proxykit with your own module
 * overriding any binding:
 * <pre>{@code
 * ProxykitServer server = Proxykit.server(config, new AbstractModule() {
 *   protected void configure() {
 *     Multibinder.newSetBinder(binder(), HandlerFactory.class).addBinding().to(MyHandlerFactory.class);
 *   }
 * }).start();
 * }</pre>
 *
 * @since 0.1
 */
public final class Proxykit {
  private Proxykit() {}

  /**
   * Returns the injector for {@code config}, with {@code overrides} replacing any binding.
   * Nothing starts here: get the {@link ProxykitServer} and start it.
   */
  public static Injector createInjector(ProxykitConfig config, Module... overrides) {
    Module production = Modules.combine(new ConfigModule(config), new HandlerTypesModule(), new ServerModule());
    return Guice.createInjector(Modules.override(production).with(overrides));
  }

  /**
   * Returns the (not yet started) server for {@code config}: every handler made, every
   * setting checked.
   *
   * @throws ConfigException naming the source and the key path of the first mistake
   */
  public static ProxykitServer server(ProxykitConfig config, Module... overrides) {
    try {
      return createInjector(config, overrides).getInstance(ProxykitServer.class);
    } catch (ProvisionException e) {
      throw unwrap(e.getErrorMessages(), e);
    } catch (CreationException e) {
      throw unwrap(e.getErrorMessages(), e);
    }
  }

  private static RuntimeException unwrap(java.util.Collection<Message> messages, RuntimeException fallback) {
    for (Message message : messages) {
      Throwable cause = message.getCause();
      if (cause instanceof ConfigException) {
        return (ConfigException) cause;
      }
    }
    return fallback;
  }

  /** Binds the configuration. */
  static final class ConfigModule extends AbstractModule {
    private final ProxykitConfig config;

    ConfigModule(ProxykitConfig config) {
      this.config = config;
    }

    @Override
    protected void configure() {
      bind(ProxykitConfig.class).toInstance(config);
    }
  }

  /** Declares the set of contributed handler factories, with the built-in ones in it. */
  static final class HandlerTypesModule extends AbstractModule {
    @Override
    protected void configure() {
      Multibinder<HandlerFactory> factories = Multibinder.newSetBinder(binder(), HandlerFactory.class);
      for (HandlerFactory builtIn : BuiltInFactories.all()) {
        factories.addBinding().toInstance(builtIn);
      }
    }

    @Provides
    @Singleton
    HandlerTypes handlerTypes(Set<HandlerFactory> contributed, ProxykitConfig config) {
      List<HandlerFactory> all = new ArrayList<>(contributed);
      all.addAll(ProviderRegistry.load(HandlerFactory.class, Proxykit.class.getClassLoader()).providers());
      return new HandlerTypes(all, config.folder());
    }
  }

  /** Makes the mounted handlers and the server. */
  static final class ServerModule extends AbstractModule {
    @Provides
    @Singleton
    ProxykitServer server(ProxykitConfig config, HandlerTypes types) {
      // read here, not at start, so that proxykit check refuses what serve would
      SSLContext tls = config.tls() == null ? null
          : PemTls.serverContext(config.tls().cert(), config.tls().key(), config.source());
      List<MountTable.Entry> entries = new ArrayList<>();
      try {
        for (ProxykitConfig.Mount mount : config.mounts()) {
          ProxyHandler handler = types.create(mount.handler());
          entries.add(new MountTable.Entry(mount.path(), handler));
        }
      } catch (RuntimeException e) {
        // whatever failed, what the earlier mounts made (pools, threads) is closed
        closeAll(types.resources(), e);
        String message = e instanceof IllegalArgumentException ? e.getMessage() : "cannot make the handlers: " + e;
        throw e instanceof ConfigException ? e : new ConfigException(config.source() + ": " + message);
      }
      AccessLog accessLog;
      try {
        accessLog = AccessLog.open(config.accessLog());
      } catch (IOException e) {
        closeAll(types.resources(), e);
        throw new ConfigException(config.source() + ": server.accessLog: cannot open '" + config.accessLog() + "': "
            + e.getMessage());
      }
      return new ProxykitServer(config, tls, new MountTable(entries), accessLog, types.resources());
    }

    /** Closes every resource; a failure to close is added to {@code failure}, never hides it. */
    private static void closeAll(List<AutoCloseable> resources, Exception failure) {
      for (AutoCloseable resource : resources) {
        try {
          resource.close();
        } catch (Exception e) {
          failure.addSuppressed(e);
        }
      }
    }
  }
}
