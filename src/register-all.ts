// Importing a connector's or transform's index registers its type; this imports all of them.
import './connectors/file/index.js';
import './connectors/kafka/index.js';
import './connectors/postgresql/index.js';
import './transforms/index.js';
