// Importing a transform module registers its type; keep one line per transform file.
import './filter.js';
import './map.js';
import './aggregate.js';
import './clean.js';
import './normalize.js';
import './validate.js';
import './profile.js';
import './enrich.js';
import './pivot.js';
import './unpivot.js';
import './mask.js';
