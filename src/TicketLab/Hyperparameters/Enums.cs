namespace TicketLab.Hyperparameters;

public enum OptimizerName { Sgd, Adam }

/// <summary>MultiStep multiplies by gamma at each milestone (constant without milestones).</summary>
public enum LrSchedule { MultiStep, Constant, Cosine }

public enum ModelInit { KaimingNormal, KaimingUniform, Xavier }

public enum BatchnormInit { Uniform, Fixed }

/// <summary>The type training steps compute convolutions and linear layers in (Models.Autocast); none: float32.</summary>
public enum AutocastDtype { None, Bf16 }

/// <summary>Whether the levels of a lottery run share level 0's data order or each draw their own.</summary>
public enum LevelDataOrder { Shared, PerLevel }

/// <summary>The earlier levels a repellent (or attractive) loss compares a level's weights with.</summary>
public enum RepelScope { All, Previous }
