import { describeProtocolConformance } from '../test/helpers/protocol-suite.ts';

describeProtocolConformance('02-resp-parser');
