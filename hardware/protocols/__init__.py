"""Device wire protocols: frame codecs and incremental parsers, one module per frame family."""
