"""Reading Vensim ``.mdl`` files before PySD's translator sees them.

PySD's translator parses most of what modelers write; this package handles
the rest, on the model's text, so that PySD and the fast engine both parse
exactly the same equations:

* :mod:`.source`: decoding, the settings section Vensim writes after the
  sketch (integration method), and :func:`~.source.open_vensim`, which hands
  the prepared text to PySD's ``VensimFile`` with paths relative to the
  original file;
* :mod:`.preprocess`: inline ``{...}`` comments, backslashes in subscript
  lists, and the rewrites listed there, each kept small enough to be
  contributed to PySD.
"""

from .source import decode, open_vensim, read_settings

#: Bump whenever these rewrites change what PySD is given: the version is part of the translation cache's key,
#: so a model translated before (a variable dropped, say) is translated again.
TRANSLATOR_VERSION = 3

__all__ = ["TRANSLATOR_VERSION", "decode", "open_vensim", "read_settings"]
