// The build must have failed for the reason under test, not for any other.
def log = new File(basedir, 'build.log').text
assert log.contains("'dependencies.dependency.version' for org.slf4j:slf4j-api:jar is missing") :
    'expected the missing-version error for slf4j-api: the BOM must not pin third-party versions'
