"""Built-in data-source connectors (registered through the same hook as plugins' ones).

Example::

    >>> from cjm_core.connectors.files import FILES_CONNECTOR
    >>> FILES_CONNECTOR.name
    'files'
"""
