namespace TicketLab.Hyperparameters;

public enum OptimizerName { Sgd, Adam }

/// <summary>MultiStep multiplies by gamma at each milestone (constant without milestones).</summary>
public enum LrSchedule { MultiStep, Constant, Cosine }

public enum ModelInit { KaimingNormal, KaimingUniform, Xavier }

public enum BatchnormInit { Uniform, Fixed }

/// <summary>The type training steps compute convolutions and linear layers in (Models.Autocast); none: float32.</summary>
public enum AutocastDtype { None, Bf16 }
