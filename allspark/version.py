"""Versions: the package's and the plugin API's (plugins declare the API version they target)."""
__version__ = '0.2.0'
#: Major changes break plugins (refused); minor changes add to the API (a newer minor warns).
API_VERSION = '1.0'
