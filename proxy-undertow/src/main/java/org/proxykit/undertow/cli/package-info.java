/** The {@code proxykit} command line: serve, check, demo. */
@NonNullByDefault
package org.proxykit.undertow.cli;

import org.proxykit.api.NonNullByDefault;
