package org.proxykit.exact;

import org.proxykit.api.spi.Settings;
import org.proxykit.api.spi.Transport;
import org.proxykit.testing.TransportContractKit;

class HttpClient5TransportTest extends TransportContractKit {
  @Override
  protected Transport createTransport(Settings settings) {
    return new HttpClient5TransportProvider().create(settings);
  }
}
