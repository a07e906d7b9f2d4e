// Makes @cloudflare/voprf-ts use its @noble/curves backend for P-384
// instead of the default (sjcl), which is several times slower.
//
// privacypass-ts picks its VOPRF group when its module is first evaluated,
// so this module must be imported BEFORE anything from privacypass-ts
// (ES modules run in import order). The bundle (build.mjs) also makes noble
// the library's default, which keeps sjcl out of pases.js altogether.
import { Oprf } from '@cloudflare/voprf-ts';
import { CryptoNoble } from '@cloudflare/voprf-ts/crypto-noble';

Oprf.Crypto = CryptoNoble;
