package migrations

// Exposed for tests.
var ReadSteps = readSteps
var Statements = statements
