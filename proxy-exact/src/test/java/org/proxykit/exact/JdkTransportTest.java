package org.proxykit.exact;

import org.proxykit.api.spi.Settings;
import org.proxykit.api.spi.Transport;
import org.proxykit.testing.TransportContractKit;

class JdkTransportTest extends TransportContractKit {
  @Override
  protected Transport createTransport(Settings settings) {
    return new JdkTransportProvider().create(settings);
  }

  @Override
  protected boolean passesReasonPhrase() {
    return false;
  }

  @Override
  protected boolean addsNoUserAgent() {
    return false;
  }

  @Override
  protected boolean timesOutStalledBodies() {
    return false;
  }
}
