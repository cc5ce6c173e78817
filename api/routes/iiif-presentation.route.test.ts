import { openTestApp } from '../test-kit.ts';
import { iiifPresentationSuite } from './iiif-presentation.suite.ts';

iiifPresentationSuite('embedded PGlite', () => openTestApp());
