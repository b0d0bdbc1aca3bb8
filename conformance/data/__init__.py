"""The contract as data and the records checks read: the rule catalogue, the OpenAPI and AsyncAPI contracts,
`Exchange` and `Transcript`, the exception types, and the input files' loaders. Imports nothing else of
the suite."""
