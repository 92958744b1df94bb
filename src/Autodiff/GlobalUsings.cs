global using System.Diagnostics;
global using NeuralTangents.Tensors;
