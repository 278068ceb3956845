"""kape-itops: IT asset and network operations toolkit for school networks."""

__version__ = "0.1.0"
