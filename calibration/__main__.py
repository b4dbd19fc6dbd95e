from cli.calibration import main

raise SystemExit(main())
