"""neo3-boa sources of the NEOT contracts and their committed compiled artefacts (`.nef`,
`.manifest.json`). The sources are compiled by neo3-boa, not imported: see `chain._artefacts`."""
