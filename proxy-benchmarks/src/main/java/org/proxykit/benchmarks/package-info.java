/** JMH benchmarks of proxykit's hot paths; see bench/README.md. */
package org.proxykit.benchmarks;
