"""axis: an inter-agency electronic document exchange axis for QCVN 102:2016 edXML packages."""

__version__ = "0.1.0"
