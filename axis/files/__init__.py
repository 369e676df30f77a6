"""The signatures inside a document's files (PDF, PAdES), checked at intake: see findings.py."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# pyHanko imports cryptography's DSA key type, which cryptography now marks deprecated; nothing here
# signs or accepts DSA (the validator's algorithm policy refuses it), so the warning is only noise
# on every command that imports this package.
warnings.filterwarnings("ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning)
